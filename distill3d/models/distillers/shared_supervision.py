# Copyright (c) distill3d contributors. All rights reserved.
"""M2SKD's released supervision of the shared network's fused forward.

In the released code (``train_cylinder_asym.py``) the fused-input forward
is supervised by cross-entropy only, on the voxels whose label under the
fused input differs from the label of the same voxel under the single scan
(the others are set to the ignore label, and voxels only the fused input
fills count as changed), at weight 0.2; no Lovasz term. This module turns
the fused forward's voxel labels into that supervision for
``Distiller3D(teacher_mode='shared', teacher_supervision='changed')``.
"""
from typing import Dict, List, Tuple

import torch
from torch import Tensor, nn

from ..recorders import match_rows


def voxel_coors_and_labels(data: dict) -> Tuple[Tensor, Tensor]:
    """Voxel coordinates and labels of a batch voxelized in train mode.

    mmdet3d's ``Det3DDataPreprocessor`` (cylindrical / minkunet voxels)
    keeps one coordinate row per *point* (``inputs['voxels']['coors']``,
    batch index first) and, per sample, the voxel labels
    (``gt_pts_seg.voxel_semantic_mask``) and ``point2voxel_map``.

    Args:
        data (dict): The preprocessor's output.

    Returns:
        tuple[Tensor, Tensor]: (V, 4) voxel coordinates and (V, ) labels,
        samples concatenated in order.
    """
    coors = data['inputs']['voxels']['coors']
    all_coors, all_labels = [], []
    for i, sample in enumerate(data['data_samples']):
        labels = sample.gt_pts_seg.get('voxel_semantic_mask')
        p2v = sample.get('point2voxel_map')
        if labels is None or p2v is None:
            raise ValueError(
                "teacher_supervision='changed' needs voxel labels "
                '(voxel_semantic_mask and point2voxel_map from a '
                'cylindrical / minkunet voxelizing preprocessor in train '
                'mode)')
        point_coors = coors[coors[:, 0] == i]
        voxel_coors = point_coors.new_zeros((len(labels), coors.shape[1]))
        voxel_coors[p2v.long()] = point_coors
        all_coors.append(voxel_coors)
        all_labels.append(labels.long())
    return torch.cat(all_coors), torch.cat(all_labels)


def mask_unchanged_voxels(model: nn.Module, student_inputs: dict,
                          student_samples: List, t_data: dict) -> int:
    """Set the fused forward's voxel labels to ignore where unchanged.

    Args:
        model (nn.Module): The shared segmentor (its data preprocessor
            voxelizes the single scans; its ``decode_head.ignore_index``
            is the ignore label).
        student_inputs (dict): The single-scan batch inputs (raw points).
        student_samples (list[Det3DDataSample]): Their samples (cloned
            here, not modified).
        t_data (dict): The fused batch after the preprocessor (see
            :func:`voxel_coors_and_labels`); its voxel labels are modified.

    Returns:
        tuple[int, int]: Fused-input voxels left supervised (changed) and
        all fused-input voxels.
    """
    s_data = model.data_preprocessor(
        dict(inputs=student_inputs,
             data_samples=[s.clone() for s in student_samples]), True)
    s_coors, s_lab = voxel_coors_and_labels(s_data)
    t_coors, t_lab = voxel_coors_and_labels(t_data)
    idx_s, idx_t = match_rows(s_coors, t_coors)
    unchanged = torch.zeros(len(t_lab), dtype=torch.bool,
                            device=t_lab.device)
    unchanged[idx_t] = s_lab[idx_s].to(t_lab.device) == t_lab[idx_t]
    ignore = model.decode_head.ignore_index
    start = 0
    for sample in t_data['data_samples']:
        seg = sample.gt_pts_seg
        n = len(seg.voxel_semantic_mask)
        mask = seg.voxel_semantic_mask.clone()
        mask[unchanged[start:start + n]] = ignore
        seg.voxel_semantic_mask = mask
        start += n
    return int((~unchanged & (t_lab != ignore)).sum()), len(t_lab)


def ce_on_changed(losses: Dict[str, Tensor], model: nn.Module,
                  num_changed: int, num_voxels: int) -> Dict[str, Tensor]:
    """The decode head's cross-entropy only, averaged over changed voxels.

    mmdet's ``CrossEntropyLoss`` averages over every voxel, ignored ones
    included, unless ``avg_non_ignore``; the released code's
    ``nn.CrossEntropyLoss(ignore_index=...)`` averages over the supervised
    voxels, so the loss is rescaled by ``num_voxels / num_changed``.

    Args:
        losses (dict): The segmentor's losses on the masked fused batch.
        model (nn.Module): The segmentor (reads ``decode_head.loss_ce``).
        num_changed (int): Supervised voxels.
        num_voxels (int): All voxels of the fused batch.

    Returns:
        dict: ``{key: loss}`` for the ``*loss_ce`` keys only (0 with a
        gradient path when no voxel changed).
    """
    keys = [k for k in losses if k.endswith('loss_ce')]
    if not keys:
        raise KeyError("teacher_supervision='changed' needs the decode "
                       "head's 'loss_ce'")
    out = {}
    avg_non_ignore = getattr(getattr(model.decode_head, 'loss_ce', None),
                             'avg_non_ignore', False)
    for key in keys:
        value = losses[key]
        if num_changed == 0:
            out[key] = value * 0.
        elif avg_non_ignore:
            out[key] = value
        else:
            out[key] = value * (num_voxels / num_changed)
    return out
