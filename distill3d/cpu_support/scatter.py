"""CPU dynamic scatter (mmcv ``DynamicScatter`` / ``dynamic_scatter``).

Used by mmdet3d's dynamic voxel encoders and Cylinder3D's ``SegVFE``.
"""
from typing import List

import torch

from .dispatch import route_ext_function

_REDUCE = {'max': 'amax', 'sum': 'sum', 'mean': 'sum'}


def dynamic_scatter_forward_cpu(feats: torch.Tensor, coors: torch.Tensor,
                                reduce_type: str) -> List[torch.Tensor]:
    """Reduce point features that share a voxel coordinate.

    Points with any negative coordinate are dropped. Voxels come out in
    lexicographic coordinate order, as in mmcv's CUDA kernel.

    Args:
        feats (torch.Tensor): (N, C) point features.
        coors (torch.Tensor): (N, D) integer voxel coordinates.
        reduce_type (str): 'max', 'sum' or 'mean'.

    Returns:
        list[torch.Tensor]: voxel features (M, C), voxel coordinates (M, D),
        int32 point-to-voxel map (N, ) (-1 for dropped points) and int32
        point counts (M, ).
    """
    if reduce_type not in _REDUCE:
        raise ValueError(f'reduce_type must be one of {list(_REDUCE)}, '
                         f'got {reduce_type!r}')
    if feats.shape[0] == 0:
        return [
            feats.clone().detach(),
            coors.clone().detach(),
            coors.new_empty(0, dtype=torch.int32),
            coors.new_empty(0, dtype=torch.int32)
        ]
    clean = coors.masked_fill(coors.lt(0).any(-1, True), -1)
    out_coors, coors_map, count = torch.unique(
        clean, sorted=True, return_inverse=True, return_counts=True, dim=0)
    if out_coors[0, 0] < 0:
        out_coors, count, coors_map = out_coors[1:], count[1:], coors_map - 1
    num_voxels, channels = out_coors.shape[0], feats.shape[1]
    valid = coors_map >= 0
    index = coors_map[valid][:, None].expand(-1, channels)
    fill = float('-inf') if reduce_type == 'max' else 0.
    reduced = feats.new_full((num_voxels, channels), fill)
    reduced.scatter_reduce_(
        0, index, feats[valid], _REDUCE[reduce_type], include_self=True)
    if reduce_type == 'mean':
        reduced /= count[:, None].to(reduced.dtype)
    return [reduced, out_coors, coors_map.int(), count.int()]


def dynamic_scatter_backward_cpu(grad_feats: torch.Tensor,
                                 grad_reduced_feats: torch.Tensor,
                                 feats: torch.Tensor,
                                 reduced_feats: torch.Tensor,
                                 coors_idx: torch.Tensor,
                                 reduce_count: torch.Tensor,
                                 reduce_type: str) -> None:
    """Gradient of :func:`dynamic_scatter_forward_cpu`, written in place.

    For 'max' the gradient goes to the lowest-index point that attains the
    maximum (mmcv's rule); for 'mean' it is divided by the voxel's count.

    Args:
        grad_feats (torch.Tensor): (N, C) output, filled here.
        grad_reduced_feats (torch.Tensor): (M, C) incoming gradient.
        feats (torch.Tensor): (N, C) forward input.
        reduced_feats (torch.Tensor): (M, C) forward output.
        coors_idx (torch.Tensor): (N, ) point-to-voxel map.
        reduce_count (torch.Tensor): (M, ) points per voxel.
        reduce_type (str): 'max', 'sum' or 'mean'.
    """
    grad_feats.zero_()
    if feats.shape[0] == 0 or reduced_feats.shape[0] == 0:
        return
    valid = coors_idx >= 0
    pts = torch.nonzero(valid).squeeze(1)
    vox = coors_idx[valid].long()
    if reduce_type in ('sum', 'mean'):
        grad = grad_reduced_feats[vox]
        if reduce_type == 'mean':
            grad = grad / reduce_count[vox, None].to(grad.dtype)
        grad_feats[pts] = grad
        return
    num_in, channels = feats.shape
    is_max = feats[pts] == reduced_feats[vox]
    cand = torch.where(is_max, pts[:, None].expand(-1, channels),
                       torch.full_like(is_max, num_in, dtype=torch.long))
    src = torch.full(reduced_feats.shape, num_in, dtype=torch.long)
    src.scatter_reduce_(0, vox[:, None].expand(-1, channels), cand, 'amin')
    hit = src < num_in
    cols = torch.arange(channels).expand_as(src)
    grad_feats[src[hit], cols[hit]] = grad_reduced_feats[hit]


def register() -> None:
    """Route mmcv's dynamic scatter kernels for CPU tensors."""
    route_ext_function('dynamic_point_to_voxel_forward',
                       dynamic_scatter_forward_cpu)
    route_ext_function('dynamic_point_to_voxel_backward',
                       dynamic_scatter_backward_cpu)
