# Copyright (c) distill3d contributors. All rights reserved.
"""Point-cloud classification models (ModelNet40, ScanObjectNN)."""
from .cls_head import PointClsHead
from .data_preprocessor import PointClsDataPreprocessor
from .global_neck import GlobalPoolNeck, PointNetGlobalSA
from .point_classifier import PointClassifier

__all__ = [
    'GlobalPoolNeck', 'PointClassifier', 'PointClsDataPreprocessor',
    'PointClsHead', 'PointNetGlobalSA'
]
