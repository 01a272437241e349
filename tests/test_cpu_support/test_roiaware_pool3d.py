"""CPU route of mmcv's RoIAwarePool3d (Part-A2) against a loop reference
written from mmcv's CUDA kernels, forward and backward, max and average."""
import math

import pytest
import torch


def _reference(rois, pts, feats, out, max_pts, mode):
    """(R, X, Y, Z, C) pooled features, one point and voxel at a time."""
    num_rois, channels = len(rois), feats.shape[1]
    pooled = torch.zeros(num_rois, out, out, out, channels,
                         dtype=feats.dtype)
    for r in range(num_rois):
        x, y, z, xs, ys, zs, rz = rois[r].tolist()
        members = {}
        for i, (px, py, pz) in enumerate(pts.tolist()):
            if abs(pz - (z + zs / 2)) > zs / 2:
                continue
            c, s = math.cos(-rz), math.sin(-rz)
            lx = (px - x) * c - (py - y) * s
            ly = (px - x) * s + (py - y) * c
            if not (-xs / 2 < lx < xs / 2 and -ys / 2 < ly < ys / 2):
                continue
            key = tuple(
                min(max(int(v / (size / out)), 0), out - 1)
                for v, size in ((lx + xs / 2, xs), (ly + ys / 2, ys),
                                (pz - z, zs)))
            kept = members.setdefault(key, [])
            if len(kept) < max_pts - 1:
                kept.append(i)
        for key, kept in members.items():
            vals = feats[kept]
            pooled[(r, ) + key] = vals.max(0).values if mode == 0 \
                else vals.mean(0)
    return pooled


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(300, 3, generator=g) * torch.tensor([6., 6., 2.]) - \
        torch.tensor([3., 3., 1.])
    feats = torch.randn(300, 5, generator=g, dtype=torch.float64)
    rois = torch.tensor([[0., 0., -1., 4., 3., 2., 0.3],
                         [1., -1., -0.5, 2., 2., 1., -1.2],
                         [10., 10., 0., 1., 1., 1., 0.]])  # empty RoI
    return rois, pts, feats


@pytest.mark.parametrize('mode,ties', [('max', False), ('avg', False),
                                       ('max', True)])
def test_forward_and_backward_match_the_kernel_rules(mode, ties):
    """With ties (integer features) the max gradient goes to the first
    point (lowest index) reaching the maximum, as in the kernel."""
    from mmcv.ops import RoIAwarePool3d
    rois, pts, feats = _data()
    if ties:
        feats = feats.round().clamp(-1, 1)
    out, max_pts = 4, 3  # two points per voxel: some voxels drop points
    from distill3d.cpu_support.roiaware_pool3d import (collect_points,
                                                       voxel_of_points)
    codes = voxel_of_points(rois, pts, out, out, out)
    kept = collect_points(codes[0], out**3, max_pts)[:, 0].sum()
    assert 0 < kept < (codes[0] >= 0).sum()
    pool = RoIAwarePool3d(out_size=out, max_pts_per_voxel=max_pts, mode=mode)
    feats = feats.requires_grad_(True)
    pooled = pool(rois, pts, feats)
    ref_feats = feats.detach().clone().requires_grad_(True)
    ref = _reference(rois, pts, ref_feats, out, max_pts,
                     0 if mode == 'max' else 1)
    torch.testing.assert_close(pooled, ref)
    assert pooled[2].abs().sum() == 0  # no point in the far RoI
    weight = torch.randn(pooled.shape, dtype=pooled.dtype)
    (pooled * weight).sum().backward()
    (ref * weight).sum().backward()
    torch.testing.assert_close(feats.grad, ref_feats.grad)
    assert feats.grad.abs().sum() > 0


def test_collect_keeps_the_first_points_in_index_order():
    from distill3d.cpu_support.roiaware_pool3d import collect_points
    code = torch.tensor([2, -1, 2, 0, 2, 2, 0])
    table = collect_points(code, num_voxels=3, max_pts_each_voxel=3)
    assert table.tolist() == [[2, 3, 6], [0, 0, 0], [2, 0, 2]]
