# Copyright (c) distill3d contributors. All rights reserved.
"""Packing of the teacher's own input next to the student's."""
from mmdet3d.datasets.transforms import Pack3DDetInputs
from mmdet3d.registry import TRANSFORMS
from mmdet3d.structures.points import BasePoints


@TRANSFORMS.register_module()
class PackDistillInputs(Pack3DDetInputs):
    """``Pack3DDetInputs`` that also packs ``teacher_points`` as an input.

    With ``keys=['points', 'teacher_points', 'pts_semantic_mask', ...]``
    the batch's ``inputs`` get ``teacher_points`` (a tensor, like
    ``points``), which ``Distiller3D(teacher_inputs=dict(
    points='teacher_points'))`` feeds to the teacher while the student
    keeps ``points``. Everything else is packed as by
    ``Pack3DDetInputs``.
    """
    INPUTS_KEYS = Pack3DDetInputs.INPUTS_KEYS + ['teacher_points']

    def pack_single_results(self, results: dict) -> dict:
        """Convert ``teacher_points`` to a tensor, then pack as usual."""
        if isinstance(results.get('teacher_points'), BasePoints):
            results['teacher_points'] = results['teacher_points'].tensor
        return super().pack_single_results(results)
