# Copyright (c) distill3d contributors. All rights reserved.
from .export import (export_student, is_distill_config,
                     load_student_checkpoint, split_state, student_config)

__all__ = [
    'export_student', 'is_distill_config', 'load_student_checkpoint',
    'split_state', 'student_config'
]
