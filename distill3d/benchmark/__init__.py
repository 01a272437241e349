# Copyright (c) distill3d contributors. All rights reserved.
"""Teacher / student / distilled-student benchmark: metrics, cost, plots."""
from .evaluate import ModelSpec, evaluate_model
from .pipeline import OUTPUT_FILES, run_benchmark

__all__ = ['ModelSpec', 'OUTPUT_FILES', 'evaluate_model', 'run_benchmark']
