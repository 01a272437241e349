# Copyright (c) distill3d contributors. All rights reserved.
"""Packing of the teacher's own input next to the student's."""
from typing import List, Optional

from mmcv.transforms import to_tensor
from mmdet3d.datasets.transforms import Pack3DDetInputs
from mmdet3d.registry import TRANSFORMS
from mmdet3d.structures import PointData
from mmdet3d.structures.points import BasePoints

#: teacher-side per-point labels and the ``PointData`` field each becomes
TEACHER_SEG_KEYS = {
    'teacher_pts_semantic_mask': 'pts_semantic_mask',
    'teacher_pts_instance_mask': 'pts_instance_mask',
}


@TRANSFORMS.register_module()
class PackDistillInputs(Pack3DDetInputs):
    """``Pack3DDetInputs`` that also packs the teacher's own input.

    With ``keys=['points', 'teacher_points', 'pts_semantic_mask', ...]``
    the batch's ``inputs`` get ``teacher_points`` (a tensor, like
    ``points``), which ``Distiller3D(teacher_inputs=dict(
    points='teacher_points'))`` feeds to the teacher while the student
    keeps ``points``. ``teacher_pts_semantic_mask`` /
    ``teacher_pts_instance_mask`` in ``keys`` are packed as
    ``data_sample.teacher_gt_pts_seg`` (a ``PointData`` over the teacher's
    points; a shared-weight teacher is supervised with them). Everything
    else is packed as by ``Pack3DDetInputs``.

    Args:
        keys (list[str]): Keys to pack, as for ``Pack3DDetInputs``.
        meta_keys (list[str], optional): Meta keys; ``Pack3DDetInputs``'
            defaults when None.
    """
    INPUTS_KEYS = Pack3DDetInputs.INPUTS_KEYS + ['teacher_points']

    def __init__(self, keys: List[str],
                 meta_keys: Optional[List[str]] = None) -> None:
        kwargs = {} if meta_keys is None else dict(meta_keys=meta_keys)
        self.teacher_seg_keys = [k for k in keys if k in TEACHER_SEG_KEYS]
        super().__init__(
            keys=[k for k in keys if k not in TEACHER_SEG_KEYS], **kwargs)

    def pack_single_results(self, results: dict) -> dict:
        """Convert ``teacher_points`` to a tensor, then pack as usual."""
        if isinstance(results.get('teacher_points'), BasePoints):
            results['teacher_points'] = results['teacher_points'].tensor
        packed = super().pack_single_results(results)
        teacher_seg = PointData()
        for key in self.teacher_seg_keys:
            if key in results:
                teacher_seg[TEACHER_SEG_KEYS[key]] = to_tensor(results[key])
        if teacher_seg.keys():
            packed['data_samples'].teacher_gt_pts_seg = teacher_seg
        return packed
