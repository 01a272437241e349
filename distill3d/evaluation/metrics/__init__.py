# Copyright (c) distill3d contributors. All rights reserved.
from .cls_metric import ClsMetric, class_accuracies

__all__ = ['ClsMetric', 'class_accuracies']
