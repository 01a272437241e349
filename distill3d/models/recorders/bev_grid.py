# Copyright (c) distill3d contributors. All rights reserved.
"""Dense BEV maps of different grids compared at the same metric places.

A voxel detector's dense BEV maps (B, C, H, W) cover the x-y extent of its
voxelization range at any stride: pixel (h, w) of an H x W map is centred
at ``x = x_min + (w + 0.5) (x_max - x_min) / W``, ``y = y_min + (h + 0.5)
(y_max - y_min) / H`` (mmdet3d's scatter puts y on the rows). A teacher of
another architecture (another voxel size, range or stride) gives maps on
another grid; :func:`resample_teacher` samples the teacher's map
bilinearly at the student's pixel centres, over the part of the student's
map that lies inside the teacher's range (the student map is cropped to
it), so a dense loss compares the same places.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BevRange = Tuple[float, float, float, float]


def model_bev_range(model: nn.Module) -> Optional[BevRange]:
    """(x_min, y_min, x_max, y_max) of a voxel model's BEV maps, or None.

    Read from the data preprocessor's voxelization range (mmdet3d's
    ``Det3DDataPreprocessor.voxel_layer.point_cloud_range``); None for
    models without one (point-based, cylindrical).
    """
    layer = getattr(getattr(model, 'data_preprocessor', None), 'voxel_layer',
                    None)
    pcr = getattr(layer, 'point_cloud_range', None)
    if pcr is None or len(pcr) != 6:
        return None
    if getattr(model.data_preprocessor, 'voxel_type', 'hard') == \
            'cylindrical':
        return None
    pcr = [float(v) for v in pcr]
    return (pcr[0], pcr[1], pcr[3], pcr[4])


def pixel_centres(bev_range: Sequence[float], height: int,
                  width: int) -> Tuple[Tensor, Tensor]:
    """Metric x (W, ) and y (H, ) of the pixel centres of a map."""
    x0, y0, x1, y1 = bev_range
    xs = x0 + (torch.arange(width, dtype=torch.float64) + 0.5) * \
        (x1 - x0) / width
    ys = y0 + (torch.arange(height, dtype=torch.float64) + 0.5) * \
        (y1 - y0) / height
    return xs, ys


def resample_teacher(student: Tensor, s_range: Sequence[float],
                     teacher: Tensor,
                     t_range: Sequence[float]) -> Tuple[Tensor, Tensor]:
    """Student map and teacher map over the same metric pixels.

    Args:
        student (Tensor): (B, C_S, H_S, W_S) student BEV map.
        s_range (Sequence[float]): Its (x_min, y_min, x_max, y_max).
        teacher (Tensor): (B, C_T, H_T, W_T) teacher BEV map.
        t_range (Sequence[float]): Its (x_min, y_min, x_max, y_max).

    Returns:
        tuple[Tensor, Tensor]: The student map cropped to the pixels whose
        centres lie inside the teacher's range, (B, C_S, h, w), and the
        teacher map sampled bilinearly at those centres, (B, C_T, h, w).

    Raises:
        ValueError: When the two ranges do not overlap.
    """
    h_s, w_s = student.shape[-2:]
    xs, ys = pixel_centres(s_range, h_s, w_s)
    tx0, ty0, tx1, ty1 = t_range
    keep_x = torch.nonzero((xs >= tx0) & (xs <= tx1)).squeeze(1)
    keep_y = torch.nonzero((ys >= ty0) & (ys <= ty1)).squeeze(1)
    if len(keep_x) == 0 or len(keep_y) == 0:
        raise ValueError(f'student BEV range {tuple(s_range)} and teacher '
                         f'BEV range {tuple(t_range)} do not overlap')
    xa, xb = int(keep_x[0]), int(keep_x[-1]) + 1
    ya, yb = int(keep_y[0]), int(keep_y[-1]) + 1
    crop = student[..., ya:yb, xa:xb]
    # normalised teacher coordinates (align_corners=False: -1 and 1 are
    # the outer edges of the teacher's range)
    gx = 2 * (xs[xa:xb] - tx0) / (tx1 - tx0) - 1
    gy = 2 * (ys[ya:yb] - ty0) / (ty1 - ty0) - 1
    grid = torch.stack(torch.meshgrid(gy, gx, indexing='ij')[::-1], dim=-1)
    grid = grid.to(teacher)[None].expand(teacher.shape[0], -1, -1, -1)
    sampled = F.grid_sample(teacher, grid, mode='bilinear',
                            padding_mode='border', align_corners=False)
    return crop, sampled


def same_grid(s_shape: Sequence[int], s_range: Optional[Sequence[float]],
              t_shape: Sequence[int],
              t_range: Optional[Sequence[float]]) -> bool:
    """Whether two dense maps share their grid (no resampling needed)."""
    if tuple(s_shape[-2:]) != tuple(t_shape[-2:]):
        return False
    if s_range is None or t_range is None:
        return True
    return all(abs(a - b) < 1e-6 for a, b in zip(s_range, t_range))
