"""Exact BEV intersection areas of rotated rectangles on CPU.

mmcv's CPU ``box_iou_rotated`` loses precision when edges (nearly)
coincide: two boxes that differ by float32 round-off can get an IoU of 0.33
instead of 1, which breaks KITTI evaluation of good predictions and NMS of
near-duplicates. Here polygons are intersected by GEOS through shapely 2's
vectorised functions, for the pairs whose bounding circles overlap only.
"""
from typing import Tuple

import numpy as np
import shapely


def rect_corners(boxes: np.ndarray, clockwise: bool = False) -> np.ndarray:
    """Corners of rotated rectangles.

    Args:
        boxes (np.ndarray): (N, 5) rectangles (x, y, w, h, angle); w along
            the rectangle's own x axis.
        clockwise (bool): Whether a positive angle turns clockwise (KITTI's
            camera-BEV convention) instead of counter-clockwise (x towards
            y, mmdet3d's LiDAR heading).

    Returns:
        np.ndarray: (N, 4, 2) float64 corners in order around the rectangle.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    angle = -boxes[:, 4] if clockwise else boxes[:, 4]
    cos, sin = np.cos(angle), np.sin(angle)
    half = boxes[:, 2:4] / 2
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    local = unit[None] * half[:, None, :]  # N, 4, 2
    x = local[..., 0] * cos[:, None] - local[..., 1] * sin[:, None]
    y = local[..., 0] * sin[:, None] + local[..., 1] * cos[:, None]
    return np.stack([x, y], axis=-1) + boxes[:, None, :2]


def rotated_intersection(boxes_a: np.ndarray,
                         boxes_b: np.ndarray,
                         clockwise: bool = False
                         ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise intersection areas of rotated rectangles.

    Args:
        boxes_a (np.ndarray): (N, 5) rectangles (x, y, w, h, angle).
        boxes_b (np.ndarray): (M, 5) rectangles.
        clockwise (bool): Angle convention, see :func:`rect_corners`.

    Returns:
        tuple[np.ndarray]: intersection areas (N, M), areas of ``boxes_a``
        (N, ) and of ``boxes_b`` (M, ), float64.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 5)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 5)
    inter = np.zeros((len(a), len(b)), dtype=np.float64)
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    if len(a) == 0 or len(b) == 0:
        return inter, area_a, area_b
    radius_a = np.hypot(a[:, 2], a[:, 3]) / 2
    radius_b = np.hypot(b[:, 2], b[:, 3]) / 2
    dist = np.hypot(a[:, None, 0] - b[None, :, 0],
                    a[:, None, 1] - b[None, :, 1])
    ia, ib = np.nonzero(dist <= radius_a[:, None] + radius_b[None, :])
    if len(ia):
        poly_a = shapely.polygons(rect_corners(a, clockwise))
        poly_b = shapely.polygons(rect_corners(b, clockwise))
        inter[ia, ib] = shapely.area(
            shapely.intersection(poly_a[ia], poly_b[ib]))
    return inter, area_a, area_b


def rotated_iou(boxes_a: np.ndarray,
                boxes_b: np.ndarray,
                clockwise: bool = False) -> np.ndarray:
    """Pairwise IoU of rotated rectangles, (N, M) float64."""
    inter, area_a, area_b = rotated_intersection(boxes_a, boxes_b, clockwise)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.)
