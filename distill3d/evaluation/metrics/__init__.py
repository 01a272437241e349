# Copyright (c) distill3d contributors. All rights reserved.
from .bootstrap_metric import BootstrapMetric, resample_indices
from .cls_metric import ClsMetric, class_accuracies
from .scan_points_seg_metric import ScanPointsSegMetric

__all__ = [
    'BootstrapMetric', 'ClsMetric', 'ScanPointsSegMetric', 'class_accuracies',
    'resample_indices'
]
