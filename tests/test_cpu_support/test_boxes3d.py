"""CPU points-in-boxes, BEV overlaps and 3D NMS through mmcv's public API.

mmcv's iou3d kernels take (x, y, z, dx, dy, dz, heading) boxes with the
heading counter-clockwise from the x axis; points_in_boxes uses the bottom
centre z. References use shapely polygons and plain python loops.
"""
import math

import pytest
import torch
from shapely.geometry import Polygon

import distill3d  # noqa: F401
from mmcv.ops import (boxes_iou3d, boxes_overlap_bev, nms3d, nms3d_normal,
                      points_in_boxes_all, points_in_boxes_part)


def _bev_polygon(box, ccw=True):
    """Shapely polygon of a (x, y, z, dx, dy, dz, heading) box."""
    x, y, _, dx, dy, _, h = [float(v) for v in box]
    h = h if ccw else -h
    c, s = math.cos(h), math.sin(h)
    pts = [(-dx / 2, -dy / 2), (dx / 2, -dy / 2), (dx / 2, dy / 2),
           (-dx / 2, dy / 2)]
    return Polygon([(x + u * c - v * s, y + u * s + v * c) for u, v in pts])


def _ref_overlap(a, b, ccw=True):
    return torch.tensor([[
        _bev_polygon(p, ccw).intersection(_bev_polygon(q, ccw)).area
        for q in b
    ] for p in a], dtype=torch.float64).reshape(len(a), len(b))


def _random_boxes(n, spread=4.):
    xy = torch.rand(n, 2) * spread
    z = torch.rand(n, 1) - 0.5
    size = torch.rand(n, 3) * 2 + 0.5
    heading = (torch.rand(n, 1) - 0.5) * 2 * math.pi
    return torch.cat([xy, z, size, heading], dim=1)


def _ref_in_box(p, box):
    """Kernel rule: |z - (cz + dz/2)| <= dz/2 and strictly inside in x/y
    after rotating the offset by -heading."""
    x, y, z = p
    cx, cy, cz, dx, dy, dz, rz = box
    cz += dz / 2.0
    if abs(z - cz) > dz / 2.0:
        return 0
    c, s = math.cos(-rz), math.sin(-rz)
    lx = (x - cx) * c - (y - cy) * s
    ly = (x - cx) * s + (y - cy) * c
    return int(-dx / 2 < lx < dx / 2 and -dy / 2 < ly < dy / 2)


def _ref_points_in_boxes(points, boxes):
    return torch.tensor([[[_ref_in_box(p, q) for q in boxes[b].tolist()]
                          for p in points[b].tolist()]
                         for b in range(points.shape[0])],
                        dtype=torch.int32).reshape(*points.shape[:2],
                                                   boxes.shape[1])


def _first_or_minus_one(flags):
    first = [row.index(1) if 1 in row else -1 for row in flags.tolist()]
    return torch.tensor(first, dtype=torch.int32)


def test_points_in_boxes_random():
    boxes = _random_boxes(8, spread=2.).reshape(2, 4, 7)
    points = torch.rand(2, 200, 3) * torch.tensor([3., 3., 2.]) - \
        torch.tensor([0., 0., 1.])
    flags = points_in_boxes_all(points, boxes)
    ref = _ref_points_in_boxes(points, boxes)
    assert flags.dtype == torch.int32 and flags.shape == (2, 200, 4)
    assert flags.is_contiguous()
    assert torch.equal(flags, ref)
    assert ref.sum() > 20 and (ref.sum(-1) > 1).any()  # overlapping boxes
    part = points_in_boxes_part(points, boxes)
    assert part.dtype == torch.int32 and part.shape == (2, 200)
    for b in range(2):
        assert torch.equal(part[b], _first_or_minus_one(ref[b]))


def test_points_in_boxes_boundaries():
    # Axis-aligned box [0, 2] x [0, 1] x [0, 1] (bottom centre z = 0).
    boxes = torch.tensor([[[1., 0.5, 0., 2., 1., 1., 0.]]])
    points = torch.tensor([[
        [1., 0.5, 0.],  # on the bottom face: inside
        [1., 0.5, 1.],  # on the top face: inside
        [1., 0.5, -0.01],  # below: outside
        [2., 0.5, 0.5],  # on an x face: outside (strict)
        [1., 0., 0.5],  # on a y face: outside (strict)
        [1.99, 0.99, 0.5],  # inside
    ]])
    flags = points_in_boxes_all(points, boxes)
    assert flags[0, :, 0].tolist() == [1, 1, 0, 0, 0, 1]
    assert points_in_boxes_part(points, boxes)[0].tolist() == [
        0, 0, -1, -1, -1, 0
    ]


def test_points_in_boxes_rotation_direction():
    # A long box rotated by +90 deg (counter-clockwise) lies along y.
    boxes = torch.tensor([[[0., 0., 0., 4., 1., 1., math.pi / 2]]])
    points = torch.tensor([[[0., 1.5, 0.5], [1.5, 0., 0.5]]])
    assert points_in_boxes_all(points, boxes)[0, :, 0].tolist() == [1, 0]


def test_points_in_boxes_empty():
    points = torch.rand(2, 5, 3)
    no_boxes = torch.zeros(2, 0, 7)
    assert points_in_boxes_all(points, no_boxes).shape == (2, 5, 0)
    part = points_in_boxes_part(points, no_boxes)
    assert part.shape == (2, 5) and (part == -1).all()
    boxes = _random_boxes(6).reshape(2, 3, 7)
    no_points = torch.zeros(2, 0, 3)
    assert points_in_boxes_all(no_points, boxes).shape == (2, 0, 3)
    assert points_in_boxes_part(no_points, boxes).shape == (2, 0)


def test_mmdet3d_boxes_reach_cpu_route():
    """mmdet3d binds ``points_in_boxes_*`` at import time."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    from mmdet3d.structures.bbox_3d import base_box3d
    assert base_box3d.points_in_boxes_all._distill3d_cpu
    assert base_box3d.points_in_boxes_part._distill3d_cpu
    tensor = _random_boxes(3, spread=1.)
    points = torch.rand(100, 3) * 2 - torch.tensor([0., 0., 1.])
    ref = _ref_points_in_boxes(points[None], tensor[None])[0]
    boxes = LiDARInstance3DBoxes(tensor)
    assert torch.equal(boxes.points_in_boxes_all(points), ref)
    assert torch.equal(boxes.points_in_boxes_part(points),
                       _first_or_minus_one(ref))


def test_boxes_overlap_bev_counter_clockwise():
    a = _random_boxes(6)
    b = _random_boxes(5)
    out = boxes_overlap_bev(a, b)
    ref = _ref_overlap(a, b)
    assert out.shape == (6, 5)
    assert ref.max() > 0.5 and (ref == 0).any()
    assert torch.allclose(out.double(), ref, atol=1e-4)
    # The clockwise reading of the headings gives different areas.
    assert (ref - _ref_overlap(a, b, ccw=False)).abs().max() > 0.1


def test_boxes_overlap_bev_explicit_and_degenerate():
    # A 4x1 box at heading +45 deg vs a unit box at (1, 1): the long box
    # runs along y = x, so the unit box overlaps it; at -45 deg it doesn't.
    a = torch.tensor([[0., 0., 0., 4., 1., 1., math.pi / 4],
                      [0., 0., 0., 4., 1., 1., -math.pi / 4],
                      [1., 1., 0., 0., 1., 1., 0.]])  # zero-width box
    b = torch.tensor([[1.2, 1.2, 0., 0.4, 0.4, 1., 0.]])
    out = boxes_overlap_bev(a, b)
    assert torch.allclose(out[:, 0], torch.tensor([0.16, 0., 0.]))
    assert not torch.isnan(out).any()


def test_boxes_overlap_bev_empty():
    a = _random_boxes(3)
    assert boxes_overlap_bev(a, torch.zeros(0, 7)).shape == (3, 0)
    assert boxes_overlap_bev(torch.zeros(0, 7), a).shape == (0, 3)


def test_boxes_iou3d():
    a = _random_boxes(5, spread=2.)
    b = torch.cat([a[:2] + torch.tensor([0.2, 0., 0.3, 0., 0., 0., 0.1]),
                   _random_boxes(3, spread=2.)])
    out = boxes_iou3d(a, b)
    bev = _ref_overlap(a, b)
    ad, bd = a.double(), b.double()
    # mmcv's boxes_iou3d takes z +- dz / 2 as the vertical extent.
    top = torch.min((ad[:, 2] + ad[:, 5] / 2)[:, None],
                    (bd[:, 2] + bd[:, 5] / 2)[None])
    bottom = torch.max((ad[:, 2] - ad[:, 5] / 2)[:, None],
                       (bd[:, 2] - bd[:, 5] / 2)[None])
    inter = bev * (top - bottom).clamp(min=0)
    vol_a = (ad[:, 3] * ad[:, 4] * ad[:, 5])[:, None]
    vol_b = (bd[:, 3] * bd[:, 4] * bd[:, 5])[None]
    ref = inter / (vol_a + vol_b - inter)
    assert ref.max() > 0.3
    assert torch.allclose(out.double(), ref, atol=1e-4)


def _ref_nms(boxes, scores, thr, iou):
    """Greedy NMS in score order, suppressing IoU strictly above thr."""
    order = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    keep = []
    for i in order:
        if all(iou(boxes[i], boxes[j]) <= thr for j in keep):
            keep.append(i)
    return keep


def _iou_rot(p, q):
    pa, qa = _bev_polygon(p), _bev_polygon(q)
    inter = pa.intersection(qa).area
    return inter / max(pa.area + qa.area - inter, 1e-8)


def _iou_normal(p, q):
    p = p.tolist()
    q = q.tolist()
    w = min(p[0] + p[3] / 2, q[0] + q[3] / 2) - \
        max(p[0] - p[3] / 2, q[0] - q[3] / 2)
    h = min(p[1] + p[4] / 2, q[1] + q[4] / 2) - \
        max(p[1] - p[4] / 2, q[1] - q[4] / 2)
    inter = max(w, 0) * max(h, 0)
    return inter / max(p[3] * p[4] + q[3] * q[4] - inter, 1e-8)


def _clustered_boxes(n):
    boxes = _random_boxes(n, spread=3.)
    boxes[:, 3:5] = boxes[:, 3:5] + 0.5
    return boxes


@pytest.mark.parametrize('thr', [0.1, 0.3, 0.5])
def test_nms3d(thr):
    boxes = _clustered_boxes(30)
    scores = torch.rand(30)
    keep = nms3d(boxes, scores, thr)
    ref = _ref_nms(boxes, scores, thr, _iou_rot)
    assert keep.dtype == torch.long
    assert keep.tolist() == ref
    assert 1 < len(ref) < 30
    # Headings matter: the axis-aligned rule keeps a different set.
    assert _ref_nms(boxes, scores, thr, _iou_normal) != ref


@pytest.mark.parametrize('thr', [0.1, 0.3, 0.5])
def test_nms3d_normal(thr):
    boxes = _clustered_boxes(30)
    scores = torch.rand(30)
    keep = nms3d_normal(boxes, scores, thr)
    ref = _ref_nms(boxes, scores, thr, _iou_normal)
    assert keep.tolist() == ref
    assert 1 < len(ref) < 30


@pytest.mark.parametrize('op', [nms3d, nms3d_normal])
def test_nms_threshold_is_strict(op):
    # The kernels suppress only IoU > threshold: with threshold 0, boxes
    # that do not overlap at all (IoU exactly 0) are all kept.
    boxes = torch.tensor([[0., 0., 0., 1., 1., 1., 0.3],
                          [5., 5., 0., 1., 1., 1., 0.],
                          [0.2, 0., 0., 1., 1., 1., 0.],
                          [10., 0., 0., 2., 1., 1., 1.]])
    scores = torch.tensor([4., 3., 2., 1.])
    assert op(boxes, scores, 0.0).tolist() == [0, 1, 3]


@pytest.mark.parametrize('op', [nms3d, nms3d_normal])
def test_nms_empty_and_single(op):
    keep = op(torch.zeros(0, 7), torch.zeros(0), 0.5)
    assert keep.shape == (0, ) and keep.dtype == torch.long
    box = _random_boxes(1)
    assert op(box, torch.ones(1), 0.5).tolist() == [0]


def test_boxes_overlap_bev_agrees_with_mmdet3d_lidar_boxes():
    """mmdet3d's LiDAR boxes (counter-clockwise yaw, bottom-centre z)
    compute 3D IoU with mmcv's native CPU ``box_iou_rotated``; the routed
    BEV overlap must give the same numbers."""
    from mmdet3d.structures import LiDARInstance3DBoxes
    a = _random_boxes(5, spread=2.)
    b = _random_boxes(4, spread=2.)
    expected = LiDARInstance3DBoxes.overlaps(
        LiDARInstance3DBoxes(a), LiDARInstance3DBoxes(b), mode='iou')
    bev = boxes_overlap_bev(a, b)
    top = torch.min((a[:, 2] + a[:, 5])[:, None], (b[:, 2] + b[:, 5])[None])
    bottom = torch.max(a[:, 2][:, None], b[:, 2][None])
    inter = bev * (top - bottom).clamp(min=0)
    vol_a = (a[:, 3] * a[:, 4] * a[:, 5])[:, None]
    vol_b = (b[:, 3] * b[:, 4] * b[:, 5])[None]
    iou = inter / (vol_a + vol_b - inter)
    assert expected.max() > 0.1
    assert torch.allclose(iou, expected, atol=1e-4)


def test_nms3d_suppresses_near_duplicates():
    """A box and its float32-jittered copy overlap fully: NMS keeps one."""
    from mmcv.ops import nms3d
    gen = torch.Generator().manual_seed(1)
    boxes = torch.rand(100, 7, generator=gen) * torch.tensor(
        [70., 80., 2., 4., 2., 2., 6.28]) + torch.tensor(
            [0., 0., 0., 1., 1., 1., -3.14])
    boxes = boxes[:1].repeat(2, 1)
    boxes[1, :6] += 1e-6
    keep = nms3d(boxes, torch.tensor([0.9, 0.8]), 0.5)
    assert keep.tolist() == [0]
