"""CPU neighbourhood ops: ball query, kNN, grouping and gathering."""
from typing import Optional

import torch

from .dispatch import route_ext_function, route_function_method

#: Centres processed at once, bounding the (chunk, N) distance matrix.
CHUNK = 1024


def _sq_dist(centres: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(C, 3), (N, 3) -> (C, N) squared distances, summed like mmcv
    (dx * dx + dy * dy + dz * dz, in that order), one (C, N) plane per
    coordinate instead of a (C, N, 3) difference tensor."""
    d2 = None
    for axis in range(points.shape[1]):
        diff = centres[:, axis, None] - points[None, :, axis]
        d2 = diff * diff if d2 is None else d2.add_(diff.mul_(diff))
    return d2


def _ball_query_with_hits(min_radius: float, max_radius: float,
                          sample_num: int, xyz: torch.Tensor,
                          center_xyz: torch.Tensor):
    """:func:`ball_query_cpu` plus a (B, M) bool: centre has any hit."""
    batch, num, _ = xyz.shape
    out = torch.zeros(batch, center_xyz.shape[1], sample_num,
                      dtype=torch.long)
    any_hit = torch.zeros(batch, center_xyz.shape[1], dtype=torch.bool)
    if num == 0:
        return out.int(), any_hit
    min2, max2 = min_radius**2, max_radius**2
    order = torch.arange(num)
    k = min(sample_num, num)
    for b in range(batch):
        for s in range(0, center_xyz.shape[1], CHUNK):
            d2 = _sq_dist(center_xyz[b, s:s + CHUNK].float(), xyz[b].float())
            if min2 == 0 < max2:  # d2 == 0 is inside; one comparison
                hit = d2 < max2
            else:
                hit = (d2 == 0) | ((d2 >= min2) & (d2 < max2))
            key = torch.where(hit, order, order + num)
            first = torch.topk(key, k, dim=1, largest=False).values
            valid = first < num
            idx = torch.where(valid, first, first[:, :1].expand_as(first))
            idx = torch.where(valid[:, :1], idx, torch.zeros_like(idx))
            if k < sample_num:
                pad = idx[:, :1].expand(-1, sample_num - k)
                idx = torch.cat([idx, pad], dim=1)
            out[b, s:s + CHUNK] = idx
            any_hit[b, s:s + CHUNK] = valid[:, 0]
    return out.int(), any_hit


def ball_query_cpu(min_radius: float, max_radius: float, sample_num: int,
                   xyz: torch.Tensor,
                   center_xyz: torch.Tensor) -> torch.Tensor:
    """Ball query with mmcv's rule.

    For each centre, the first ``sample_num`` points (in index order) whose
    squared distance d2 satisfies ``d2 == 0`` or
    ``min_radius**2 <= d2 < max_radius**2``; unused slots repeat the first
    hit; centres without any hit get index 0 everywhere.

    Args:
        min_radius (float): Inner radius.
        max_radius (float): Outer radius.
        sample_num (int): Number K of indices per centre.
        xyz (torch.Tensor): (B, N, 3) points.
        center_xyz (torch.Tensor): (B, M, 3) centres.

    Returns:
        torch.Tensor: (B, M, K) int32 indices.
    """
    return _ball_query_with_hits(min_radius, max_radius, sample_num, xyz,
                                 center_xyz)[0]


def knn_cpu(k: int, xyz: torch.Tensor,
            center_xyz: torch.Tensor) -> torch.Tensor:
    """K nearest neighbours (ascending distance, mmcv's ``knn`` contract).

    Args:
        k (int): Number of neighbours.
        xyz (torch.Tensor): (B, N, 3) points.
        center_xyz (torch.Tensor): (B, M, 3) queries.

    Returns:
        torch.Tensor: (B, M, k) int32 indices (the caller transposes).
    """
    batch = xyz.shape[0]
    out = torch.zeros(batch, center_xyz.shape[1], k, dtype=torch.long)
    for b in range(batch):
        for s in range(0, center_xyz.shape[1], CHUNK):
            d2 = _sq_dist(center_xyz[b, s:s + CHUNK].float(), xyz[b].float())
            kk = min(k, d2.shape[1])
            out[b, s:s + CHUNK, :kk] = torch.topk(
                d2, kk, dim=1, largest=False).indices
    return out.int()


def _knn_forward(ctx, k: int, xyz: torch.Tensor,
                 center_xyz: Optional[torch.Tensor] = None,
                 transposed: bool = False) -> torch.Tensor:
    assert 0 < k < 100, 'k should be in range(0, 100)'
    if center_xyz is None:
        center_xyz = xyz
    if transposed:
        xyz = xyz.transpose(2, 1).contiguous()
        center_xyz = center_xyz.transpose(2, 1).contiguous()
    idx = knn_cpu(k, xyz, center_xyz).transpose(2, 1).contiguous()
    ctx.mark_non_differentiable(idx)
    return idx


def _ball_query_ext(new_xyz_tensor, xyz_tensor, idx_tensor, b, n, m,
                    min_radius, max_radius, nsample):
    idx_tensor.copy_(
        ball_query_cpu(min_radius, max_radius, nsample, xyz_tensor,
                       new_xyz_tensor))


def _stack_ball_query_ext(new_xyz_tensor, new_xyz_batch_cnt, xyz_tensor,
                          xyz_batch_cnt, idx_tensor, max_radius, nsample):
    p_start = c_start = 0
    for n_pts, n_ctr in zip(xyz_batch_cnt.tolist(),
                            new_xyz_batch_cnt.tolist()):
        pts = xyz_tensor[p_start:p_start + n_pts].float()
        ctr = new_xyz_tensor[c_start:c_start + n_ctr].float()
        idx, hit = _ball_query_with_hits(0., max_radius, nsample, pts[None],
                                         ctr[None])
        idx, hit = idx[0], hit[0]
        # mmcv marks a centre without neighbours by -1 in its first slot.
        idx[~hit, 0] = -1
        idx_tensor[c_start:c_start + n_ctr] = idx
        p_start += n_pts
        c_start += n_ctr


def group_points_cpu(points: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Group features by indices.

    Args:
        points (torch.Tensor): (B, C, N) features.
        idx (torch.Tensor): (B, M, K) indices into N.

    Returns:
        torch.Tensor: (B, C, M, K) grouped features.
    """
    batch, channels, _ = points.shape
    _, m, k = idx.shape
    flat = idx.long().reshape(batch, 1, m * k).expand(-1, channels, -1)
    return points.gather(2, flat).reshape(batch, channels, m, k)


def _group_fwd_ext(points_tensor, idx_tensor, out_tensor, b, c, n, npoints,
                   nsample):
    out_tensor.copy_(group_points_cpu(points_tensor, idx_tensor))


def _group_bwd_ext(grad_out_tensor, idx_tensor, grad_points_tensor, b, c, n,
                   npoints, nsample):
    flat = idx_tensor.long().reshape(b, 1, npoints * nsample).expand(-1, c, -1)
    grad_points_tensor.scatter_add_(2, flat,
                                    grad_out_tensor.reshape(b, c, -1))


def _stack_group_fwd_ext(features_tensor, features_batch_cnt_tensor,
                         idx_tensor, idx_batch_cnt_tensor, out_tensor, b, m,
                         c, nsample):
    offsets = torch.cumsum(features_batch_cnt_tensor.long(), 0)
    offsets = torch.cat([offsets.new_zeros(1), offsets[:-1]])
    batch_of = torch.repeat_interleave(
        torch.arange(b), idx_batch_cnt_tensor.long())
    gidx = idx_tensor.long() + offsets[batch_of][:, None]
    out_tensor.copy_(features_tensor[gidx].permute(0, 2, 1))


def _stack_group_bwd_ext(grad_out_tensor, idx_tensor, idx_batch_cnt_tensor,
                         features_batch_cnt_tensor, grad_features_tensor, b,
                         c, m, n, nsample):
    offsets = torch.cumsum(features_batch_cnt_tensor.long(), 0)
    offsets = torch.cat([offsets.new_zeros(1), offsets[:-1]])
    batch_of = torch.repeat_interleave(
        torch.arange(b), idx_batch_cnt_tensor.long())
    gidx = (idx_tensor.long() + offsets[batch_of][:, None]).reshape(-1)
    grad_features_tensor.index_add_(
        0, gidx, grad_out_tensor.permute(0, 2, 1).reshape(-1, c))


def _gather_fwd_ext(points_tensor, idx_tensor, out_tensor, b, c, n, npoints):
    flat = idx_tensor.long()[:, None, :].expand(-1, c, -1)
    out_tensor.copy_(points_tensor.gather(2, flat))


def _gather_bwd_ext(grad_out_tensor, idx_tensor, grad_points_tensor, b, c, n,
                    npoints):
    flat = idx_tensor.long()[:, None, :].expand(-1, c, -1)
    grad_points_tensor.scatter_add_(2, flat, grad_out_tensor)


def register() -> None:
    """Route mmcv's grouping ops for CPU tensors."""
    from mmcv.ops.knn import KNN

    # KNN's wrapper queries the current CUDA device: replace it on CPU.
    route_function_method(KNN, 'forward', _knn_forward, 1)
    route_ext_function('ball_query_forward', _ball_query_ext)
    route_ext_function('stack_ball_query_forward', _stack_ball_query_ext)
    route_ext_function('group_points_forward', _group_fwd_ext)
    route_ext_function('group_points_backward', _group_bwd_ext)
    route_ext_function('stack_group_points_forward', _stack_group_fwd_ext)
    route_ext_function('stack_group_points_backward', _stack_group_bwd_ext)
    route_ext_function('gather_points_forward', _gather_fwd_ext)
    route_ext_function('gather_points_backward', _gather_bwd_ext)
