"""CPU RoI-aware point pooling (mmcv ``RoIAwarePool3d``, Part-A2's RoI
feature extractor).

mmcv 2.1.0 has CUDA kernels only. These replace its two compiled functions
for CPU tensors and follow the kernels step by step: a point belongs to a
RoI when it lies strictly inside the box in x / y (box frame) and within
half the height of the box centre in z; its voxel is its offset from the
box's lower corner divided by the voxel size, clamped to the grid; each
voxel keeps its first ``max_pts_each_voxel - 1`` points in index order
(slot 0 holds the count); max pooling takes the first maximum per channel
(``argmax`` -1 for empty voxels), average pooling divides by the kept
count; the backward passes the max gradient to the argmax point and the
average gradient, divided by the count, to every kept point.
"""
import math

import torch

from .dispatch import route_ext_function


def voxel_of_points(rois: torch.Tensor, pts: torch.Tensor, out_x: int,
                    out_y: int, out_z: int) -> torch.Tensor:
    """Flat voxel index of every point in every RoI.

    Args:
        rois (torch.Tensor): (R, 7) boxes (x, y, z, x_size, y_size, z_size,
            rz), bottom centre at z, LiDAR coordinates.
        pts (torch.Tensor): (N, 3) points.
        out_x (int): Voxels along the box's x.
        out_y (int): Voxels along y.
        out_z (int): Voxels along z.

    Returns:
        torch.Tensor: (R, N) int64, ``(x * out_y + y) * out_z + z`` of the
        point's voxel, -1 where the point is outside the RoI.
    """
    rois = rois.float()
    pts = pts.float()
    cx, cy, bz = (rois[:, i:i + 1] for i in range(3))
    xs, ys, zs, rz = (rois[:, i:i + 1] for i in range(3, 7))
    px, py, pz = pts[None, :, 0], pts[None, :, 1], pts[None, :, 2]
    inside_z = (pz - (bz + zs / 2)).abs() <= zs / 2
    cosa, sina = torch.cos(-rz), torch.sin(-rz)
    sx, sy = px - cx, py - cy
    local_x = sx * cosa - sy * sina
    local_y = sx * sina + sy * cosa
    inside = inside_z & (local_x > -xs / 2) & (local_x < xs / 2) & \
        (local_y > -ys / 2) & (local_y < ys / 2)
    x_idx = ((local_x + xs / 2) / (xs / out_x)).trunc().long()
    y_idx = ((local_y + ys / 2) / (ys / out_y)).trunc().long()
    z_idx = ((pz - bz) / (zs / out_z)).trunc().long()
    x_idx = x_idx.clamp(0, out_x - 1)
    y_idx = y_idx.clamp(0, out_y - 1)
    z_idx = z_idx.clamp(0, out_z - 1)
    code = (x_idx * out_y + y_idx) * out_z + z_idx
    return torch.where(inside, code, torch.full_like(code, -1))


def collect_points(code: torch.Tensor, num_voxels: int,
                   max_pts_each_voxel: int) -> torch.Tensor:
    """Points of each voxel of one RoI, as mmcv's collect kernel stores them.

    Args:
        code (torch.Tensor): (N, ) voxel of each point, -1 outside.
        num_voxels (int): Voxels of the RoI.
        max_pts_each_voxel (int): Slots per voxel (slot 0: the count).

    Returns:
        torch.Tensor: (num_voxels, max_pts_each_voxel) int32: the count of
        kept points, then their indices in index order, 0 after them.
    """
    out = torch.zeros(num_voxels, max_pts_each_voxel, dtype=torch.int32)
    key, point, rank = _kept_pairs(code[None], num_voxels,
                                   max_pts_each_voxel)
    out[key, rank + 1] = point.int()
    out[:, 0] = torch.bincount(key, minlength=num_voxels).int()
    return out


def _kept_pairs(codes: torch.Tensor, num_voxels: int,
                max_pts_each_voxel: int):
    """The (RoI voxel, point) pairs mmcv keeps: every point inside a RoI,
    up to ``max_pts_each_voxel - 1`` per voxel in index order.

    Returns:
        tuple[Tensor, Tensor, Tensor]: per kept pair, the flat RoI voxel
        ``roi * num_voxels + voxel``, the point index and its slot (0-based
        rank among the voxel's points).
    """
    roi, point = (codes >= 0).nonzero(as_tuple=True)  # roi-major, then point
    key = roi * num_voxels + codes[roi, point]
    order = torch.argsort(key, stable=True)  # index order within a voxel
    key, point = key[order], point[order]
    rank = torch.arange(len(key)) - torch.searchsorted(key, key)
    keep = rank < max_pts_each_voxel - 1
    return key[keep], point[keep], rank[keep]


def _roiaware_pool3d_forward(rois, pts, pts_feature, argmax,
                             pts_idx_of_voxels, pooled_features,
                             pool_method=0):
    """mmcv ``roiaware_pool3d_forward`` on CPU: fills ``argmax`` (R, X, Y,
    Z, C), ``pts_idx_of_voxels`` (R, X, Y, Z, P) and ``pooled_features``
    (R, X, Y, Z, C); ``pool_method`` 0 max, 1 average."""
    num_rois, out_x, out_y, out_z, max_pts = pts_idx_of_voxels.shape
    num_voxels = out_x * out_y * out_z
    channels = pts_feature.shape[1]
    codes = voxel_of_points(rois, pts, out_x, out_y, out_z)
    key, point, rank = _kept_pairs(codes, num_voxels, max_pts)
    table = pts_idx_of_voxels.view(num_rois * num_voxels, max_pts)
    table.zero_()
    table[key, rank + 1] = point.int()
    count = torch.bincount(key, minlength=num_rois * num_voxels)
    table[:, 0] = count.int()
    feats = pts_feature.detach()[point]  # kept pairs, C
    pooled = pooled_features.view(-1, channels)
    pooled.zero_()
    slot = key[:, None].expand(-1, channels)
    if pool_method == 0:
        best = torch.full_like(pooled, -math.inf).scatter_reduce(
            0, slot, feats, 'amax', include_self=True)
        # the first point (lowest index) that reaches the maximum
        at_max = feats == best[key]
        first = torch.full(pooled.shape, torch.iinfo(torch.int64).max,
                           dtype=torch.int64).scatter_reduce(
                               0, slot,
                               torch.where(at_max, point[:, None].expand(
                                   -1, channels), torch.iinfo(
                                       torch.int64).max), 'amin')
        empty = (count == 0)[:, None]
        pooled.copy_(torch.where(empty, torch.zeros_like(best), best))
        argmax.view(-1, channels).copy_(
            torch.where(empty, torch.full_like(first, -1), first).int())
    else:
        total = torch.zeros_like(pooled).index_add_(0, key, feats)
        pooled.copy_(total / count.clamp(min=1)[:, None].to(total.dtype))


def _roiaware_pool3d_backward(pts_idx_of_voxels, argmax, grad_out, grad_in,
                              pool_method=0):
    """mmcv ``roiaware_pool3d_backward`` on CPU: accumulates into
    ``grad_in`` (N, C)."""
    channels = grad_in.shape[1]
    grad = grad_out.reshape(-1, channels)
    if pool_method == 0:
        arg = argmax.reshape(-1, channels).long()
        hit = arg >= 0
        chan = torch.arange(channels).expand_as(arg)
        grad_in.index_put_((arg[hit], chan[hit]), grad[hit], accumulate=True)
        return
    max_pts = pts_idx_of_voxels.shape[-1]
    table = pts_idx_of_voxels.reshape(-1, max_pts)
    active = (table[:, 0] > 0).nonzero().flatten()
    sub = table[active].long()
    count = sub[:, 0]
    valid = torch.arange(1, max_pts)[None] <= count[:, None]
    share = grad[active] / count[:, None].to(grad.dtype)
    row = torch.arange(len(sub))[:, None].expand_as(valid)
    grad_in.index_add_(0, sub[:, 1:][valid], share[row[valid]])


def register() -> None:
    """Route mmcv's RoI-aware pooling for CPU tensors."""
    route_ext_function('roiaware_pool3d_forward', _roiaware_pool3d_forward)
    route_ext_function('roiaware_pool3d_backward', _roiaware_pool3d_backward)
