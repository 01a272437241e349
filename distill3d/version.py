# Copyright (c) distill3d contributors. All rights reserved.
"""The package version (the one place it is written; setup.py reads it)."""
__version__ = '0.2.0'
