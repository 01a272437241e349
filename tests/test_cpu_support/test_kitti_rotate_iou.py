"""CPU ``rotate_iou_gpu_eval`` for mmdet3d's KITTI evaluation.

Boxes are (x, y, w, h, angle) in camera BEV, and mmdet3d's numba kernel
builds corners as (cx + cos*u + sin*v, cy - sin*u + cos*v): positive angles
turn clockwise (in a y-up drawing).
"""
import math

import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

import distill3d  # noqa: F401
from distill3d.cpu_support import kitti_rotate_iou
from mmdet3d.evaluation.functional.kitti_utils.rotate_iou import \
    rotate_iou_gpu_eval


def _polygon(box, clockwise=True):
    x, y, w, h, a = [float(v) for v in box]
    a = a if clockwise else -a
    c, s = math.cos(a), math.sin(a)
    corners = [(-w / 2, -h / 2), (-w / 2, h / 2), (w / 2, h / 2),
               (w / 2, -h / 2)]
    return Polygon([(x + c * u + s * v, y - s * u + c * v)
                    for u, v in corners])


def _ref(boxes, query, criterion, clockwise=True):
    out = np.zeros((len(boxes), len(query)))
    for i, p in enumerate(boxes):
        for j, q in enumerate(query):
            pa, qa = _polygon(p, clockwise), _polygon(q, clockwise)
            inter = pa.intersection(qa).area
            if criterion == -1:
                out[i, j] = inter / (pa.area + qa.area - inter)
            elif criterion == 0:
                out[i, j] = inter / pa.area
            elif criterion == 1:
                out[i, j] = inter / qa.area
            else:
                out[i, j] = inter
    return out


def _boxes(n, rng):
    xy = rng.uniform(0, 4, (n, 2))
    wh = rng.uniform(0.5, 3, (n, 2))
    angle = rng.uniform(-math.pi, math.pi, (n, 1))
    return np.concatenate([xy, wh, angle], axis=1)


def test_shim_is_installed_without_cuda():
    import sys
    mod = sys.modules[kitti_rotate_iou.MODULE]
    if torch.cuda.is_available():
        pytest.skip('the numba-CUDA module is kept on GPU machines')
    assert mod._distill3d_cpu
    assert rotate_iou_gpu_eval is kitti_rotate_iou.rotate_iou_cpu_eval


@pytest.mark.parametrize('criterion', [-1, 0, 1, 2])
def test_rotate_iou_matches_shapely(criterion):
    rng = np.random.default_rng(0)
    boxes, query = _boxes(6, rng), _boxes(5, rng)
    out = kitti_rotate_iou.rotate_iou_cpu_eval(boxes, query, criterion)
    ref = _ref(boxes, query, criterion)
    assert out.shape == (6, 5) and out.flags['C_CONTIGUOUS']
    assert ref.max() > 0.2 and (ref == 0).any()
    np.testing.assert_allclose(out, ref, atol=1e-4)
    # Reading the angles counter-clockwise would give other values.
    assert np.abs(ref - _ref(boxes, query, criterion, False)).max() > 0.05


def test_rotate_iou_explicit_direction():
    # A 4x1 box at +45 deg (clockwise) runs along y = -x.
    boxes = np.array([[0., 0., 4., 1., math.pi / 4]])
    query = np.array([[1.2, -1.2, 0.4, 0.4, 0.], [1.2, 1.2, 0.4, 0.4, 0.]])
    out = kitti_rotate_iou.rotate_iou_cpu_eval(boxes, query, 2)
    np.testing.assert_allclose(out, [[0.16, 0.]], atol=1e-5)


def test_rotate_iou_dtype_and_empty():
    rng = np.random.default_rng(1)
    boxes, query = _boxes(3, rng), _boxes(2, rng)
    # Like the numba version: computed and returned in float32.
    for dtype in (np.float32, np.float64):
        out = kitti_rotate_iou.rotate_iou_cpu_eval(
            boxes.astype(dtype), query.astype(dtype), -1)
        assert out.dtype == np.float32
    empty = kitti_rotate_iou.rotate_iou_cpu_eval(boxes[:0], query)
    assert empty.shape == (0, 2) and empty.dtype == np.float32
    empty = kitti_rotate_iou.rotate_iou_cpu_eval(boxes, query[:0])
    assert empty.shape == (3, 0)


def test_rotate_iou_bad_criterion():
    rng = np.random.default_rng(2)
    with pytest.raises(ValueError):
        kitti_rotate_iou.rotate_iou_cpu_eval(_boxes(2, rng), _boxes(2, rng),
                                             5)


def test_kitti_eval_overlap_functions():
    """mmdet3d's KITTI eval helpers (BEV and 3D overlaps) run on CPU."""
    from mmdet3d.evaluation.functional.kitti_utils.eval import (
        bev_box_overlap, d3_box_overlap)
    rng = np.random.default_rng(3)
    # Camera boxes (x, y, z, l, h, w, ry): BEV is (x, z, l, w, ry) and y is
    # the bottom (height extends towards -y).
    n = 4
    cam = np.zeros((n, 7))
    cam[:, [0, 2]] = rng.uniform(0, 3, (n, 2))
    cam[:, 1] = rng.uniform(1, 1.5, n)
    cam[:, [3, 4, 5]] = rng.uniform(1, 3, (n, 3))
    cam[:, 6] = rng.uniform(-math.pi, math.pi, n)
    bev = cam[:, [0, 2, 3, 5, 6]]
    np.testing.assert_allclose(
        bev_box_overlap(bev, bev, -1), _ref(bev, bev, -1), atol=1e-4)
    inter_bev = _ref(bev, bev, 2)
    top = np.maximum(cam[:, None, 1] - cam[:, None, 4],
                     cam[None, :, 1] - cam[None, :, 4])
    ih = np.clip(np.minimum(cam[:, None, 1], cam[None, :, 1]) - top, 0, None)
    inter = inter_bev * ih
    vol = cam[:, 3] * cam[:, 4] * cam[:, 5]
    ref = inter / (vol[:, None] + vol[None] - inter)
    out = d3_box_overlap(cam, cam, -1)
    np.testing.assert_allclose(out, ref, atol=1e-4)
    np.testing.assert_allclose(np.diag(out), 1., atol=1e-5)


def test_near_coincident_boxes_are_stable():
    """Boxes equal up to float32 round-off have IoU ~1 (mmcv's CPU
    box_iou_rotated gave 0.33 for some of these)."""
    from mmdet3d.evaluation.functional.kitti_utils.rotate_iou import \
        rotate_iou_gpu_eval
    rng = np.random.default_rng(0)
    boxes = np.concatenate([
        rng.uniform(-20, 20, (200, 2)),
        rng.uniform(1, 5, (200, 2)),
        rng.uniform(-3.2, 3.2, (200, 1))
    ], 1).astype(np.float32)
    jitter = boxes.copy()
    jitter[:, :4] += rng.normal(0, 1e-6, (200, 4)).astype(np.float32)
    iou = np.diag(rotate_iou_gpu_eval(boxes, jitter))
    assert iou.min() > 0.9999
    assert np.diag(rotate_iou_gpu_eval(boxes, boxes)).min() > 0.9999
