# Copyright (c) distill3d contributors. All rights reserved.
"""Metrics of distill3d (registered in mmdet3d's METRICS)."""
from .metrics import ClsMetric, class_accuracies

__all__ = ['ClsMetric', 'class_accuracies']
