"""CPU ball query, kNN, grouping and gathering through mmcv's public API."""
import pytest
import torch
from torch.autograd import gradcheck

import distill3d  # noqa: F401
from mmcv.ops import (QueryAndGroup, ball_query, gather_points,
                      grouping_operation, knn)


def _grid_points(*shape):
    """Random coordinates on a 0.25 grid: squared distances are exact."""
    return torch.randint(0, 9, shape).float() / 4


def _sq(a, b):
    return sum((x - y)**2 for x, y in zip(a, b))


def _ref_ball_query(min_r, max_r, nsample, xyz, centers):
    """Kernel rule: the first ``nsample`` hits (d2 == 0 or
    min_r**2 <= d2 < max_r**2) in index order, padded with the first hit,
    0 everywhere without hits."""
    out = []
    for b in range(xyz.shape[0]):
        pts = xyz[b].tolist()
        rows = []
        for c in centers[b].tolist():
            hits = [
                k for k, p in enumerate(pts)
                if _sq(c, p) == 0 or min_r**2 <= _sq(c, p) < max_r**2
            ][:nsample]
            row = hits + [hits[0] if hits else 0] * (nsample - len(hits))
            rows.append(row)
        out.append(rows)
    return torch.tensor(out, dtype=torch.int32)


@pytest.mark.parametrize('min_r,max_r,nsample', [(0., 0.5, 5),
                                                 (0.25, 0.6, 4),
                                                 (0., 0.8, 40)])
def test_ball_query_grid_points(min_r, max_r, nsample):
    # Exact squared distances: d2 == max_r**2 must be excluded and
    # d2 == min_r**2 included; 0.8 ** 2 is not exact, 0.5 and 0.25 are.
    xyz = _grid_points(2, 30, 3)
    centers = torch.cat([xyz[:, :6], _grid_points(2, 6, 3)], dim=1)
    idx = ball_query(min_r, max_r, nsample, xyz, centers.contiguous())
    assert idx.dtype == torch.int32 and idx.shape == (2, 12, nsample)
    ref = _ref_ball_query(min_r, max_r, nsample, xyz, centers)
    assert torch.equal(idx, ref)


def test_ball_query_boundaries_explicit():
    xyz = torch.tensor([[[0.5, 0., 0.], [0., 0., 0.], [0.25, 0., 0.],
                         [0.3, 0., 0.], [9., 9., 9.]]])
    center = torch.zeros(1, 1, 3)
    # d2: 0.25 (== max2, out), 0 (in), 0.0625 (== min2, in), 0.09 (in).
    idx = ball_query(0.25, 0.5, 5, xyz, center)
    assert idx[0, 0].tolist() == [1, 2, 3, 1, 1]
    # min_radius excludes the close point 2 only when d2 < min2.
    idx = ball_query(0.26, 0.5, 5, xyz, center)
    assert idx[0, 0].tolist() == [1, 3, 1, 1, 1]
    # No hit at all: zeros.
    far = torch.full((1, 1, 3), 50.)
    assert ball_query(0., 0.5, 3, xyz, far)[0, 0].tolist() == [0, 0, 0]


def test_ball_query_random_float_points():
    xyz = torch.rand(2, 64, 3)
    centers = torch.rand(2, 10, 3)
    idx = ball_query(0.1, 0.3, 8, xyz, centers)
    assert torch.equal(idx, _ref_ball_query(0.1, 0.3, 8, xyz, centers))


def _ref_stack_ball_query(radius, nsample, xyz, xyz_cnt, ctr, ctr_cnt):
    """Stacked kernel rule: hits are d2 < radius**2; a centre without hits
    gets -1 in its first slot and 0 in the others."""
    rows = []
    p0 = c0 = 0
    for n, m in zip(xyz_cnt.tolist(), ctr_cnt.tolist()):
        pts = xyz[p0:p0 + n].tolist()
        for c in ctr[c0:c0 + m].tolist():
            hits = [k for k, p in enumerate(pts)
                    if _sq(c, p) < radius**2][:nsample]
            if hits:
                rows.append(hits + [hits[0]] * (nsample - len(hits)))
            else:
                rows.append([-1] + [0] * (nsample - 1))
        p0 += n
        c0 += m
    return torch.tensor(rows, dtype=torch.int32).reshape(-1, nsample)


def test_stack_ball_query():
    xyz_cnt = torch.tensor([20, 0, 15], dtype=torch.int32)
    ctr_cnt = torch.tensor([5, 2, 4], dtype=torch.int32)
    xyz = _grid_points(35, 3)
    ctr = torch.cat([xyz[:3], _grid_points(2, 3), _grid_points(2, 3),
                     xyz[20:22], _grid_points(2, 3)])
    idx = ball_query(0., 0.5, 6, xyz, ctr, xyz_cnt, ctr_cnt)
    ref = _ref_stack_ball_query(0.5, 6, xyz, xyz_cnt, ctr, ctr_cnt)
    assert idx.dtype == torch.int32
    assert torch.equal(idx, ref)
    # Indices are local to each batch element: batch 1 has no points.
    assert idx[5:7, 0].tolist() == [-1, -1]
    assert (idx[7:] < 15).all()


def _ref_knn(k, xyz, centers):
    out = []
    for b in range(xyz.shape[0]):
        pts = xyz[b].tolist()
        rows = []
        for c in centers[b].tolist():
            order = sorted(range(len(pts)), key=lambda i: _sq(c, pts[i]))
            order = order[:k]
            rows.append(order + [0] * (k - len(order)))
        out.append(rows)
    # mmcv returns (B, k, npoint)
    return torch.tensor(out, dtype=torch.int32).transpose(1, 2)


def test_knn_matches_reference():
    xyz = torch.rand(2, 40, 3)
    centers = torch.rand(2, 7, 3)
    idx = knn(5, xyz, centers)
    assert idx.dtype == torch.int32 and idx.shape == (2, 5, 7)
    assert torch.equal(idx, _ref_knn(5, xyz, centers))


def test_knn_transposed_and_self_query():
    xyz = torch.rand(2, 30, 3)
    centers = torch.rand(2, 6, 3)
    idx = knn(4, xyz.transpose(1, 2).contiguous(),
              centers.transpose(1, 2).contiguous(), True)
    assert torch.equal(idx, _ref_knn(4, xyz, centers))
    # center_xyz None: query the points themselves; nearest is the point.
    idx = knn(3, xyz)
    assert idx.shape == (2, 3, 30)
    assert torch.equal(idx[:, 0].long(), torch.arange(30).expand(2, -1))
    assert torch.equal(idx, _ref_knn(3, xyz, xyz))


def test_knn_more_neighbours_than_points_pads_with_zero():
    xyz = torch.rand(1, 3, 3)
    centers = torch.rand(1, 2, 3)
    idx = knn(5, xyz, centers)
    assert torch.equal(idx, _ref_knn(5, xyz, centers))
    assert (idx[:, 3:] == 0).all()


def test_knn_ties_give_sorted_distances():
    # With ties the kernel's order among equal distances is unspecified,
    # but the distances of the returned neighbours must be the k smallest.
    xyz = _grid_points(1, 40, 3)
    centers = _grid_points(1, 5, 3)
    idx = knn(6, xyz, centers)[0].t().long()  # (npoint, k)
    for m, c in enumerate(centers[0].tolist()):
        got = [_sq(c, xyz[0, i].tolist()) for i in idx[m].tolist()]
        ref = sorted(_sq(c, p) for p in xyz[0].tolist())[:6]
        assert got == ref
        assert len(set(idx[m].tolist())) == 6


def test_knn_rejects_bad_k():
    with pytest.raises(AssertionError):
        knn(0, torch.rand(1, 5, 3))


def _random_idx(b, m, k, n):
    return torch.randint(0, n, (b, m, k), dtype=torch.int32)


def test_grouping_operation_forward():
    feats = torch.rand(2, 4, 10)
    idx = _random_idx(2, 5, 3, 10)
    out = grouping_operation(feats, idx)
    assert out.shape == (2, 4, 5, 3)
    ref = torch.zeros(2, 4, 5, 3)
    for b in range(2):
        for c in range(4):
            for m in range(5):
                for s in range(3):
                    ref[b, c, m, s] = feats[b, c, idx[b, m, s]]
    assert torch.equal(out, ref)


def test_grouping_operation_gradcheck():
    # Repeated indices make the backward accumulate.
    feats = torch.rand(2, 3, 6, dtype=torch.float64, requires_grad=True)
    idx = _random_idx(2, 4, 5, 6)
    assert gradcheck(lambda f: grouping_operation(f, idx), (feats, ))
    # Against autograd through plain indexing.
    out = grouping_operation(feats, idx)
    grad = torch.rand_like(out)
    (g, ) = torch.autograd.grad(out, feats, grad)
    ref = torch.stack([feats[b][:, idx[b].long()] for b in range(2)])
    (g_ref, ) = torch.autograd.grad(ref, feats, grad)
    assert torch.allclose(g, g_ref)


def _stacked_inputs():
    feat_cnt = torch.tensor([6, 4], dtype=torch.int32)
    idx_cnt = torch.tensor([3, 2], dtype=torch.int32)
    idx = torch.cat([
        torch.randint(0, 6, (3, 4), dtype=torch.int32),
        torch.randint(0, 4, (2, 4), dtype=torch.int32)
    ])
    return feat_cnt, idx_cnt, idx


def test_stack_grouping_operation_forward_and_gradcheck():
    feat_cnt, idx_cnt, idx = _stacked_inputs()
    feats = torch.rand(10, 3, dtype=torch.float64, requires_grad=True)
    out = grouping_operation(feats, idx, feat_cnt, idx_cnt)
    assert out.shape == (5, 3, 4)
    ref = torch.zeros(5, 3, 4, dtype=torch.float64)
    for m in range(5):
        start = 0 if m < 3 else 6  # batch 1 indices are local to its points
        for s in range(4):
            ref[m, :, s] = feats[start + idx[m, s]]
    assert torch.equal(out, ref)
    assert gradcheck(lambda f: grouping_operation(f, idx, feat_cnt, idx_cnt),
                     (feats, ))


def test_gather_points_forward_and_gradcheck():
    feats = torch.rand(2, 3, 8, dtype=torch.float64, requires_grad=True)
    idx = torch.randint(0, 8, (2, 6), dtype=torch.int32)
    idx[:, 1] = idx[:, 0]  # a repeated index
    out = gather_points(feats, idx)
    assert out.shape == (2, 3, 6)
    ref = torch.stack([feats[b][:, idx[b].long()] for b in range(2)])
    assert torch.equal(out, ref)
    assert gradcheck(lambda f: gather_points(f, idx), (feats, ))


def test_query_and_group_module():
    """PointNet++'s QueryAndGroup: ball query + grouping of xyz and feats."""
    xyz = torch.rand(2, 32, 3)
    centers = xyz[:, :8].contiguous()
    feats = torch.rand(2, 5, 32)
    grouper = QueryAndGroup(0.4, 6, use_xyz=True, return_grouped_idx=True)
    new_feats, idx = grouper(xyz, centers, feats)
    ref_idx = _ref_ball_query(0., 0.4, 6, xyz, centers)
    assert torch.equal(idx, ref_idx)
    assert new_feats.shape == (2, 8, 8, 6)
    for b in range(2):
        sel = ref_idx[b].long()  # (8, 6)
        rel = xyz[b][sel] - centers[b][:, None]  # (8, 6, 3)
        assert torch.allclose(new_feats[b, :3], rel.permute(2, 0, 1))
        assert torch.equal(new_feats[b, 3:], feats[b][:, sel])
    # kNN grouping (max_radius None).
    grouper = QueryAndGroup(None, 4, use_xyz=False, return_grouped_idx=True)
    new_feats, idx = grouper(xyz, centers, feats)
    assert torch.equal(idx, _ref_knn(4, xyz, centers).transpose(1, 2))
