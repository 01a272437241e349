# Copyright (c) distill3d contributors. All rights reserved.
from .bootstrap_metric import BootstrapMetric, resample_indices
from .cls_metric import ClsMetric, class_accuracies

__all__ = [
    'BootstrapMetric', 'ClsMetric', 'class_accuracies', 'resample_indices'
]
