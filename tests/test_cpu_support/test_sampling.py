"""CPU furthest point sampling through mmcv's public API."""
import pytest
import torch

import distill3d  # noqa: F401
from mmcv.ops import furthest_point_sample, furthest_point_sample_with_dist


def _ref_fps_from_dist(dist_rows, num_points):
    """Reference FPS over a distance function, mirroring the CUDA kernel.

    Starts at index 0; ``dist_rows(old)`` gives the distances from the last
    chosen point to all points; each point keeps its minimum so far (initial
    1e10); the next point is the first index with the largest kept value.
    """
    out = [0]
    first = dist_rows(0)
    temp = [1e10] * len(first)
    old = 0
    for _ in range(1, num_points):
        row = dist_rows(old)
        best, besti = -1.0, 0
        for k in range(len(temp)):
            temp[k] = min(temp[k], row[k])
            if temp[k] > best:  # strict: lowest index wins ties
                best, besti = temp[k], k
        old = besti
        out.append(old)
    return out[:num_points]


def _ref_fps(points, num_points):
    """Reference FPS on (N, 3) points (python floats, squared distances)."""
    pts = points.tolist()

    def rows(old):
        x1, y1, z1 = pts[old]
        return [(x - x1)**2 + (y - y1)**2 + (z - z1)**2 for x, y, z in pts]

    return _ref_fps_from_dist(rows, num_points)


def test_fps_random_points_matches_reference():
    points = torch.rand(3, 50, 3) * 10
    idx = furthest_point_sample(points, 12)
    assert idx.shape == (3, 12)
    assert idx.dtype == torch.int32
    for b in range(3):
        assert idx[b].tolist() == _ref_fps(points[b], 12)


def test_fps_starts_at_zero_and_is_not_sequential():
    # Point 0 is in the middle, so the second pick must be a far corner.
    points = torch.tensor([[[0., 0., 0.], [0.1, 0., 0.], [5., 0., 0.],
                            [-3., 0., 0.], [0., 4., 0.]]])
    idx = furthest_point_sample(points, 4)
    assert idx[0].tolist() == [0, 2, 4, 3]


def test_fps_ties_take_lowest_index():
    # Integer grid: squared distances are exact, so many exact ties occur.
    coords = torch.stack(
        torch.meshgrid(
            torch.arange(3.), torch.arange(3.), torch.arange(2.),
            indexing='ij'), -1).reshape(1, -1, 3)
    # A shuffled copy so that the tie order is not the grid order.
    perm = torch.randperm(coords.shape[1])
    points = torch.cat([coords, coords[:, perm]], dim=0)
    idx = furthest_point_sample(points.contiguous(), 10)
    for b in range(2):
        assert idx[b].tolist() == _ref_fps(points[b], 10)
    # Symmetric case with an explicit answer: 1 and 2 tie, 1 wins; then 2.
    points = torch.tensor([[[0., 0., 0.], [1., 0., 0.], [-1., 0., 0.]]])
    assert furthest_point_sample(points, 3)[0].tolist() == [0, 1, 2]


def test_fps_more_samples_than_distinct_points_repeat_index_zero():
    points = torch.tensor([[[0., 0., 0.], [2., 0., 0.], [2., 0., 0.],
                            [0., 1., 0.]]])
    idx = furthest_point_sample(points, 6)
    assert idx[0].tolist() == _ref_fps(points[0], 6)
    # After the three distinct locations all distances are 0: index 0.
    assert idx[0].tolist() == [0, 1, 3, 0, 0, 0]


def test_fps_with_dist_uses_rows_of_matrix():
    # An asymmetric matrix: reading columns instead of rows would differ.
    dist = torch.rand(2, 20, 20)
    idx = furthest_point_sample_with_dist(dist, 8)
    assert idx.shape == (2, 8) and idx.dtype == torch.int32
    for b in range(2):
        mat = dist[b].tolist()
        ref = _ref_fps_from_dist(lambda old, m=mat: m[old], 8)
        assert idx[b].tolist() == ref
    ref_t = _ref_fps_from_dist(lambda old: dist[0].t()[old].tolist(), 8)
    assert ref_t != idx[0].tolist()  # the test can tell rows from columns


def test_fps_with_dist_equals_fps_on_squared_distances():
    points = torch.rand(2, 30, 3)
    sq = ((points[:, :, None] - points[:, None]) ** 2).sum(-1)
    assert torch.equal(
        furthest_point_sample_with_dist(sq.contiguous(), 10),
        furthest_point_sample(points, 10))


@pytest.mark.parametrize('num_points', [0, 1])
def test_fps_few_samples(num_points):
    points = torch.rand(2, 7, 3)
    idx = furthest_point_sample(points, num_points)
    assert idx.shape == (2, num_points)
    assert (idx == 0).all()
    dist = torch.rand(2, 7, 7)
    assert furthest_point_sample_with_dist(dist, num_points).shape == (
        2, num_points)


def test_fps_is_not_differentiable_and_stays_on_cpu():
    points = torch.rand(1, 10, 3, requires_grad=True)
    idx = furthest_point_sample(points, 4)
    assert not idx.requires_grad
    assert idx.device.type == 'cpu'


def test_points_sampler_dfps_and_ffps():
    """mmcv's PointsSampler (used by PointNet++ / 3DSSD) runs on CPU."""
    from mmcv.ops import PointsSampler
    points = torch.rand(2, 40, 3)
    feats = torch.rand(2, 4, 40)
    idx = PointsSampler([10], ['D-FPS'])(points, feats)
    assert torch.equal(idx, furthest_point_sample(points, 10))
    idx = PointsSampler([10], ['F-FPS'])(points, feats)
    # F-FPS: FPS on squared distances of the concatenated (xyz, features).
    joint = torch.cat([points, feats.transpose(1, 2)], dim=2).double()
    sq = ((joint[:, :, None] - joint[:, None])**2).sum(-1)
    for b in range(2):
        mat = sq[b].tolist()
        ref = _ref_fps_from_dist(lambda old, m=mat: m[old], 10)
        assert idx[b].tolist() == ref
