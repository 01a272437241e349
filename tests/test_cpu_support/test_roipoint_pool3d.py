"""CPU RoI point pooling through mmcv's public ``RoIPointPool3d``."""
import math

import pytest
import torch

import distill3d  # noqa: F401
from mmcv.ops import RoIPointPool3d


def _in_box(p, box):
    """Kernel rule: bottom-centre z, |dz| inclusive, x/y strict."""
    x, y, z = p
    cx, cy, cz, dx, dy, dz, rz = box
    cz += dz / 2.0
    if abs(z - cz) > dz / 2.0:
        return False
    c, s = math.cos(-rz), math.sin(-rz)
    lx = (x - cx) * c - (y - cy) * s
    ly = (x - cx) * s + (y - cy) * c
    return -dx / 2 < lx < dx / 2 and -dy / 2 < ly < dy / 2


def _ref_pool(points, feats, boxes, num_sampled):
    """First ``num_sampled`` inside points in index order, repeated
    cyclically (slot k takes inside point k % cnt); empty boxes: flag 1 and
    zeros."""
    batch, num_boxes = boxes.shape[:2]
    channels = 3 + feats.shape[2]
    pooled = torch.zeros(batch, num_boxes, num_sampled, channels)
    empty = torch.zeros(batch, num_boxes, dtype=torch.int32)
    for b in range(batch):
        for m, box in enumerate(boxes[b].tolist()):
            inside = [
                k for k, p in enumerate(points[b].tolist()) if _in_box(p, box)
            ][:num_sampled]
            if not inside:
                empty[b, m] = 1
                continue
            for slot in range(num_sampled):
                k = inside[slot % len(inside)]
                pooled[b, m, slot] = torch.cat([points[b, k], feats[b, k]])
    return pooled, empty


def _scene():
    points = torch.rand(2, 80, 3) * torch.tensor([4., 4., 2.])
    # Two known points inside the small third box of sample 1.
    points[1, 10] = torch.tensor([2., 2., 1.])
    points[1, 30] = torch.tensor([2.1, 2.05, 0.5])
    feats = torch.randn(2, 80, 5)
    boxes = torch.tensor([
        [[1., 1., 0., 1.5, 1., 2., 0.3],  # a few points
         [3., 3., 0.5, 2.5, 2.5, 1.5, -0.7],  # many points
         [10., 10., 0., 1., 1., 1., 0.],  # no point
         [2., 2., 0., 0.8, 0.5, 2., 1.2]],  # overlaps with others
        [[2., 2., 0., 4., 4., 2., 0.],  # every point
         [0.5, 3.5, 0., 0.5, 0.5, 2., 0.],
         [2., 2., 0., 0.8, 0.6, 2., 0.4],
         [-5., 0., 0., 1., 1., 1., 0.]]])
    return points, feats, boxes


@pytest.mark.parametrize('num_sampled', [1, 6, 64])
def test_roipoint_pool3d_matches_reference(num_sampled):
    points, feats, boxes = _scene()
    pooled, empty = RoIPointPool3d(num_sampled)(points, feats, boxes)
    ref_pooled, ref_empty = _ref_pool(points, feats, boxes, num_sampled)
    assert pooled.shape == (2, 4, num_sampled, 8)
    assert empty.dtype == torch.int32
    assert torch.equal(empty, ref_empty)
    assert torch.equal(pooled, ref_pooled)
    assert empty.tolist() == [[0, 0, 1, 0], [0, 0, 0, 1]]


def test_roipoint_pool3d_counts_cover_both_regimes():
    # The scene must contain boxes with fewer and with more points than
    # the number sampled, so both the cyclic repeat and the truncation are
    # exercised.
    points, _, boxes = _scene()
    counts = [
        sum(_in_box(p, box) for p in points[b].tolist())
        for b in range(2) for box in boxes[b].tolist()
    ]
    assert any(0 < c < 6 for c in counts) and any(c > 6 for c in counts)


def test_roipoint_pool3d_no_boxes_and_no_points():
    points, feats, boxes = _scene()
    pooled, empty = RoIPointPool3d(4)(points, feats, boxes[:, :0])
    assert pooled.shape == (2, 0, 4, 8) and empty.shape == (2, 0)
    pooled, empty = RoIPointPool3d(4)(points[:, :0], feats[:, :0], boxes)
    assert (empty == 1).all() and (pooled == 0).all()
