# Copyright (c) distill3d contributors. All rights reserved.
"""Metrics of distill3d (registered in mmdet3d's METRICS) and summaries."""
from .metrics import (BootstrapMetric, ClsMetric, ScanPointsSegMetric,
                      class_accuracies, resample_indices)
from .summary import (HARD_SEG_CLASSES, classification_summary,
                      detection_summary, headline_keys, segmentation_summary,
                      summarize_metrics)

__all__ = [
    'BootstrapMetric', 'ClsMetric', 'HARD_SEG_CLASSES', 'ScanPointsSegMetric',
    'class_accuracies',
    'classification_summary', 'detection_summary', 'headline_keys',
    'resample_indices', 'segmentation_summary', 'summarize_metrics'
]
