# Copyright (c) distill3d contributors. All rights reserved.
"""Zero velocity for 7-value boxes (CenterPoint on KITTI-format data)."""
import torch
from mmcv.transforms import BaseTransform

from mmdet3d.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AddZeroVelocity(BaseTransform):
    """Append a zero (vx, vy) to 7-value ground-truth boxes.

    mmdet3d 1.4's ``CenterHead`` builds its regression targets with
    nuScenes' velocity (``vx, vy = box[7:]``) whatever the data set, so
    KITTI-format boxes (7 values) fail there. With this transform (before
    ``Pack3DDetInputs``) and a ``vel`` head whose code weights are 0, a
    CenterPoint trains on them without changing mmdet3d; predictions carry
    a zero-trained velocity the KITTI metric ignores.

    Required keys: ``gt_bboxes_3d``. Modified keys: ``gt_bboxes_3d`` (9
    values per box when it had 7; otherwise unchanged).
    """

    def transform(self, results: dict) -> dict:
        boxes = results.get('gt_bboxes_3d')
        if boxes is None or boxes.box_dim != 7:
            return results
        tensor = torch.cat(
            [boxes.tensor, boxes.tensor.new_zeros(len(boxes.tensor), 2)], 1)
        results['gt_bboxes_3d'] = type(boxes)(
            tensor, box_dim=9, with_yaw=boxes.with_yaw)
        return results
