# Copyright (c) distill3d contributors. All rights reserved.
from .box_velocity import AddZeroVelocity
from .multi_scan_fusion import (DEFAULT_HARD_CLASSES,
                                MultiScanHardInstanceFusion, SplitFusedPoints)
from .pack import PackDistillInputs

__all__ = [
    'AddZeroVelocity', 'DEFAULT_HARD_CLASSES', 'MultiScanHardInstanceFusion',
    'PackDistillInputs', 'SplitFusedPoints'
]
from .cls_transforms import (ClsPointSample, LoadPointsFromTxt,  # noqa: F401
                             ClsNormalizeUnitSphere, PackPointClsInputs,
                             ClsRandomJitter, ClsRandomPointDropout,
                             ClsRandomRotate, ClsRandomScaleTranslate)
