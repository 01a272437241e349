# Copyright (c) distill3d contributors. All rights reserved.
from .export import export_student, split_state, student_config

__all__ = ['export_student', 'split_state', 'student_config']
