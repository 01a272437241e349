# Copyright (c) distill3d contributors. All rights reserved.
"""Synthetic KITTI 3D object detection data set in the real on-disk format.

The layout written under ``out_dir`` is what ``tools/create_data.py kitti
--with-plane`` of mmdet3d 1.x produces from the real data (without images)::

    out_dir
    ├── ImageSets/{train,val,trainval}.txt
    ├── training
    │   ├── calib/%06d.txt        P0..P3, R0_rect, Tr_velo_to_cam, ...
    │   ├── label_2/%06d.txt      KITTI label lines (camera frame)
    │   ├── planes/%06d.txt       ground plane (camera frame)
    │   ├── velodyne/%06d.bin     float32 (N, 4) full 360 degree scan
    │   └── velodyne_reduced/%06d.bin   points inside the CAM2 image
    ├── kitti_gt_database/{idx}_{Class}_{k}.bin
    ├── kitti_dbinfos_train.pkl
    └── kitti_infos_{train,val,trainval}.pkl   (info_version 1.1)

The annotations follow the conversion chain of mmdet3d's converters
(``kitti_converter.py``, ``update_infos_to_v2.py``,
``create_gt_database.py``): the info files are built from the label and
calib text that was written, ``num_lidar_pts`` counts the points of the
reduced cloud inside each box and the difficulty is computed exactly like
``add_difficulty_to_annos``. The 2D boxes are the projections of the 3D
boxes with P2 clipped to the image, truncation is the fraction of that
projection outside the image and the occlusion level is measured by ray
casting, so that KittiMetric fed with the ground truth scores ~100 AP.
"""
import json
import os
import os.path as osp
import pickle
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from .lidar_sim import (SEM_IDS, LidarConfig, SceneBuilder, Street, add_car,
                        add_cycle, add_pedestrian, bev_overlaps,
                        build_street, cast_scan, sensor_plane)

# Class order of mmdet3d's KittiDataset.METAINFO / update_infos_to_v2.
KITTI_CLASSES = ('Pedestrian', 'Cyclist', 'Car', 'Van', 'Truck',
                 'Person_sitting', 'Tram', 'Misc')
IMAGE_SHAPE = (375, 1242)  # (height, width) of KITTI's CAM2 images
SETTINGS_FILE = 'synthetic_settings.json'  # seed and config of the data

# Calibration of the KITTI raw recording day 2011_09_26 (frame 000008).
KITTI_CALIB_TEXT = (
    'P0: 7.215377000000e+02 0.000000000000e+00 6.095593000000e+02 '
    '0.000000000000e+00 0.000000000000e+00 7.215377000000e+02 '
    '1.728540000000e+02 0.000000000000e+00 0.000000000000e+00 '
    '0.000000000000e+00 1.000000000000e+00 0.000000000000e+00\n'
    'P1: 7.215377000000e+02 0.000000000000e+00 6.095593000000e+02 '
    '-3.875744000000e+02 0.000000000000e+00 7.215377000000e+02 '
    '1.728540000000e+02 0.000000000000e+00 0.000000000000e+00 '
    '0.000000000000e+00 1.000000000000e+00 0.000000000000e+00\n'
    'P2: 7.215377000000e+02 0.000000000000e+00 6.095593000000e+02 '
    '4.485728000000e+01 0.000000000000e+00 7.215377000000e+02 '
    '1.728540000000e+02 2.163791000000e-01 0.000000000000e+00 '
    '0.000000000000e+00 1.000000000000e+00 2.745884000000e-03\n'
    'P3: 7.215377000000e+02 0.000000000000e+00 6.095593000000e+02 '
    '-3.395242000000e+02 0.000000000000e+00 7.215377000000e+02 '
    '1.728540000000e+02 2.199936000000e+00 0.000000000000e+00 '
    '0.000000000000e+00 1.000000000000e+00 2.729905000000e-03\n'
    'R0_rect: 9.999239000000e-01 9.837760000000e-03 -7.445048000000e-03 '
    '-9.869795000000e-03 9.999421000000e-01 -4.278459000000e-03 '
    '7.402527000000e-03 4.351614000000e-03 9.999631000000e-01\n'
    'Tr_velo_to_cam: 7.533745000000e-03 -9.999714000000e-01 '
    '-6.166020000000e-04 -4.069766000000e-03 1.480249000000e-02 '
    '7.280733000000e-04 -9.998902000000e-01 -7.631618000000e-02 '
    '9.998621000000e-01 7.523790000000e-03 1.480755000000e-02 '
    '-2.717806000000e-01\n'
    'Tr_imu_to_velo: 9.999976000000e-01 7.553071000000e-04 '
    '-2.035826000000e-03 -8.086759000000e-01 -7.854027000000e-04 '
    '9.998898000000e-01 -1.482298000000e-02 3.195559000000e-01 '
    '2.024406000000e-03 1.482454000000e-02 9.998881000000e-01 '
    '-7.997231000000e-01\n\n')

# KITTI evaluation thresholds (kitti_data_utils.add_difficulty_to_annos).
_MIN_HEIGHT = (40, 25, 25)
_MAX_OCCLUSION = (0, 1, 2)
_MAX_TRUNC = (0.15, 0.3, 0.5)


@dataclass
class KittiSynthConfig:
    """Size and content of a synthetic KITTI data set.

    Args:
        num_train (int): Number of training frames. Defaults to 120.
        num_val (int): Number of validation frames. Defaults to 30.
        lidar (:obj:`LidarConfig`): Simulated sensor.
        num_cars (Tuple[int, int]): Inclusive range of the number of cars
            placed in a scene (some may end up unlabelled: out of the image
            or hidden). Defaults to (4, 12).
        ped_probs (Sequence[float]): Probabilities of placing 0, 1, 2, ...
            pedestrians. Defaults to (0.3, 0.3, 0.2, 0.1, 0.1).
        cyc_probs (Sequence[float]): Probabilities of placing 0, 1, 2, ...
            cyclists. Defaults to (0.55, 0.3, 0.15).
        max_distance (float): Largest forward distance of objects placed in
            the camera field of view. Defaults to 38, inside the 39.68 m
            detection range of the CPU-sized configs (mmdet3d's KITTI
            configs reach 69.12 m / 70.4 m: use 65 for them).
    """
    num_train: int = 120
    num_val: int = 30
    lidar: LidarConfig = field(default_factory=LidarConfig)
    num_cars: Tuple[int, int] = (4, 12)
    ped_probs: Sequence[float] = (0.3, 0.3, 0.2, 0.1, 0.1)
    cyc_probs: Sequence[float] = (0.55, 0.3, 0.15)
    max_distance: float = 38.0


# ---------------------------------------------------------------------------
# Calibration and geometry helpers (numpy versions of mmdet3d's).
# ---------------------------------------------------------------------------


def _extend(mat: np.ndarray) -> np.ndarray:
    """Extend a 3x4 (or 3x3) matrix to a homogeneous 4x4 one."""
    out = np.eye(4, dtype=np.float64)
    out[:mat.shape[0], :mat.shape[1]] = mat
    return out


def parse_calib(text: str) -> Dict[str, np.ndarray]:
    """Parse a KITTI calib file like mmdet3d's ``get_kitti_image_info``.

    Args:
        text (str): Content of ``training/calib/%06d.txt``.

    Returns:
        dict: ``P0``..``P3``, ``R0_rect``, ``Tr_velo_to_cam`` and
        ``Tr_imu_to_velo`` as float64 4x4 matrices.
    """
    calib = {}
    for line in text.strip().split('\n'):
        key, vals = line.split(':', 1)
        vals = np.array([float(v) for v in vals.split()])
        shape = (3, 3) if key == 'R0_rect' else (3, 4)
        calib[key] = _extend(vals.reshape(shape))
    return calib


def lidar2cam_matrix(calib: Dict[str, np.ndarray]) -> np.ndarray:
    """``R0_rect @ Tr_velo_to_cam`` in float32, as update_infos_to_v2."""
    return (calib['R0_rect'].astype(np.float32)
            @ calib['Tr_velo_to_cam'].astype(np.float32))


def _limit_period(val: np.ndarray,
                  offset: float = 0.5,
                  period: float = 2 * np.pi) -> np.ndarray:
    return val - np.floor(val / period + offset) * period


def lidar_to_cam_boxes(boxes: np.ndarray, lidar2cam: np.ndarray) -> np.ndarray:
    """LiDAR boxes to KITTI camera boxes (mmdet3d's Box3DMode.convert).

    Args:
        boxes (np.ndarray): ``(x, y, z, l, w, h, yaw)`` with the bottom
            centre, shape (N, 7).
        lidar2cam (np.ndarray): 4x4 transformation.

    Returns:
        np.ndarray: ``(x, y, z, l, h, w, ry)`` with the bottom centre in the
        rectified camera frame, shape (N, 7).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    xyz = boxes[:, :3] @ lidar2cam[:3, :3].T + lidar2cam[:3, 3]
    ry = _limit_period(-boxes[:, 6] - np.pi / 2)
    return np.concatenate(
        [xyz, boxes[:, [3]], boxes[:, [5]], boxes[:, [4]], ry[:, None]], 1)


def cam_to_lidar_boxes(boxes: np.ndarray, lidar2cam: np.ndarray) -> np.ndarray:
    """Inverse of :func:`lidar_to_cam_boxes`.

    Args:
        boxes (np.ndarray): Camera boxes ``(x, y, z, l, h, w, ry)``, (N, 7).
        lidar2cam (np.ndarray): 4x4 transformation.

    Returns:
        np.ndarray: LiDAR boxes ``(x, y, z, l, w, h, yaw)``, (N, 7).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    cam2lidar = np.linalg.inv(np.asarray(lidar2cam, dtype=np.float64))
    xyz = boxes[:, :3] @ cam2lidar[:3, :3].T + cam2lidar[:3, 3]
    yaw = _limit_period(-boxes[:, 6] - np.pi / 2)
    return np.concatenate(
        [xyz, boxes[:, [3]], boxes[:, [5]], boxes[:, [4]], yaw[:, None]], 1)


def cam_box_corners(boxes: np.ndarray) -> np.ndarray:
    """Corners of camera boxes (CameraInstance3DBoxes.corners).

    Args:
        boxes (np.ndarray): ``(x, y, z, l, h, w, ry)``, (N, 7).

    Returns:
        np.ndarray: Corners of shape (N, 8, 3).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    unit = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-1., 0.)
                     for z in (-0.5, 0.5)])
    local = unit[None] * boxes[:, None, 3:6]
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    x = c[:, None] * local[..., 0] + s[:, None] * local[..., 2]
    z = -s[:, None] * local[..., 0] + c[:, None] * local[..., 2]
    return np.stack([x, local[..., 1], z], -1) + boxes[:, None, :3]


def project_to_image(points: np.ndarray,
                     cam2img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Project camera points like mmdet3d's ``points_cam2img`` (float32).

    Args:
        points (np.ndarray): Points of shape (..., 3).
        cam2img (np.ndarray): 4x4 projection matrix.

    Returns:
        Tuple[np.ndarray, np.ndarray]: Pixel coordinates (..., 2) and
        depths (..., ).
    """
    pts = np.asarray(points, dtype=np.float32)
    hom = np.concatenate([pts, np.ones_like(pts[..., :1])], -1)
    proj = hom @ np.asarray(cam2img, dtype=np.float32).T
    return proj[..., :2] / proj[..., 2:3], proj[..., 2]


def points_in_lidar_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which points lie in which LiDAR boxes (bottom-centre origin).

    Args:
        points (np.ndarray): Points of shape (N, >=3).
        boxes (np.ndarray): ``(x, y, z, l, w, h, yaw)``, (M, 7).

    Returns:
        np.ndarray: Boolean mask of shape (N, M).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    d = points[:, None, :3].astype(np.float64) - boxes[None, :, :3]
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    lx = c * d[..., 0] + s * d[..., 1]
    ly = -s * d[..., 0] + c * d[..., 1]
    return ((np.abs(lx) <= 0.5 * boxes[:, 3]) &
            (np.abs(ly) <= 0.5 * boxes[:, 4]) & (d[..., 2] >= 0) &
            (d[..., 2] <= boxes[:, 5]))


def in_image_mask(points: np.ndarray, calib: Dict[str, np.ndarray],
                  image_shape: Tuple[int, int] = IMAGE_SHAPE) -> np.ndarray:
    """Points inside the CAM2 image frustum (``remove_outside_points``).

    Args:
        points (np.ndarray): LiDAR points of shape (N, >=3).
        calib (dict): Parsed calibration.
        image_shape (Tuple[int, int]): ``(height, width)``.

    Returns:
        np.ndarray: Boolean mask of shape (N, ).
    """
    lidar2cam = calib['R0_rect'] @ calib['Tr_velo_to_cam']
    pts = points[:, :3].astype(np.float64)
    cam = pts @ lidar2cam[:3, :3].T + lidar2cam[:3, 3]
    hom = np.concatenate([cam, np.ones((len(cam), 1))], 1) @ calib['P2'].T
    with np.errstate(divide='ignore', invalid='ignore'):
        u, v = hom[:, 0] / hom[:, 2], hom[:, 1] / hom[:, 2]
    return ((hom[:, 2] > 1e-3) & (cam[:, 2] < 100) & (u >= 0) &
            (u <= image_shape[1]) & (v >= 0) & (v <= image_shape[0]))


def kitti_difficulty(height: np.ndarray, occluded: np.ndarray,
                     truncated: np.ndarray) -> np.ndarray:
    """Difficulty as mmdet3d's ``add_difficulty_to_annos`` computes it.

    Args:
        height (np.ndarray): 2D box heights in pixels, (N, ).
        occluded (np.ndarray): Occlusion levels, (N, ).
        truncated (np.ndarray): Truncation ratios, (N, ).

    Returns:
        np.ndarray: 0 (easy), 1 (moderate), 2 (hard) or -1, int32 (N, ).
    """
    masks = []
    for i in range(3):
        masks.append(~((occluded > _MAX_OCCLUSION[i]) |
                       (height <= _MIN_HEIGHT[i]) |
                       (truncated > _MAX_TRUNC[i])))
    easy, moderate, hard = masks
    is_moderate = np.logical_xor(easy, moderate)
    is_hard = np.logical_xor(hard, moderate)
    diff = np.full(len(height), -1, dtype=np.int32)
    diff[is_hard] = 2
    diff[is_moderate] = 1
    diff[easy] = 0
    return diff


# ---------------------------------------------------------------------------
# Scene sampling.
# ---------------------------------------------------------------------------


@dataclass
class KittiFrame:
    """One simulated KITTI frame.

    Args:
        points (np.ndarray): Full scan, float32 (N, 4).
        label_lines (List[str]): Lines of the label file.
        plane_text (str): Content of the plane file.
        label_stats (List[Tuple[str, int, int]]): Class, points in the
            reduced cloud and difficulty of each label line.
    """
    points: np.ndarray
    label_lines: List[str]
    plane_text: str
    label_stats: List[Tuple[str, int, int]] = field(default_factory=list)


_SIZE_STATS = {
    # mean and std of (l, w, h) and clipping bounds, roughly KITTI's
    'Car': ((3.9, 1.62, 1.53), (0.4, 0.1, 0.12), (3.2, 1.4, 1.3),
            (4.9, 1.9, 1.9)),
    'Pedestrian': ((0.75, 0.62, 1.72), (0.12, 0.08, 0.1), (0.45, 0.45, 1.45),
                   (1.1, 0.85, 2.0)),
    'Cyclist': ((1.76, 0.6, 1.73), (0.12, 0.07, 0.08), (1.4, 0.45, 1.5),
                (2.1, 0.8, 1.95)),
    # parked bicycle without rider (unlabelled distractor)
    'Bicycle': ((1.7, 0.55, 1.05), (0.08, 0.05, 0.05), (1.5, 0.45, 0.95),
                (1.9, 0.65, 1.15)),
}


def _sample_size(rng: np.random.Generator, name: str) -> np.ndarray:
    mean, std, lo, hi = _SIZE_STATS[name]
    return np.clip(rng.normal(mean, std), lo, hi)


class _Placer:
    """Samples object boxes in a street without collisions."""

    def __init__(self, rng: np.random.Generator, street: Street,
                 pose: Sequence[float], calib: Dict[str, np.ndarray],
                 max_distance: float) -> None:
        self.rng = rng
        self.layout = street.layout
        self.footprints = street.footprints
        self.pose = pose
        self.lidar2cam = calib['R0_rect'] @ calib['Tr_velo_to_cam']
        self.P2 = calib['P2']
        self.max_distance = max_distance
        self.boxes: List[np.ndarray] = []  # world boxes (x,y,z,l,w,h,yaw)
        self.names: List[str] = []
        self.in_image: List[bool] = []
        # ego car around the sensor
        self.ego = np.array([[pose[0] - 0.3, pose[1], 4.6, 1.9, pose[3]]])

    def world_to_lidar(self, box: np.ndarray) -> np.ndarray:
        x, y, z, yaw = self.pose
        c, s = np.cos(yaw), np.sin(yaw)
        dx, dy = box[0] - x, box[1] - y
        return np.array([
            c * dx + s * dy, -s * dx + c * dy, box[2] - z, box[3], box[4],
            box[5], box[6] - yaw
        ])

    def lidar_to_world(self, box: np.ndarray) -> np.ndarray:
        x, y, z, yaw = self.pose
        c, s = np.cos(yaw), np.sin(yaw)
        return np.array([
            x + c * box[0] - s * box[1], y + s * box[0] + c * box[1],
            box[2] + z, box[3], box[4], box[5], box[6] + yaw
        ])

    def visibility(self, box_world: np.ndarray) -> Optional[bool]:
        """True: in the image; False: out of it; None: ambiguous."""
        cam = lidar_to_cam_boxes(self.world_to_lidar(box_world),
                                 self.lidar2cam)
        corners = cam_box_corners(cam)[0]
        hom = np.concatenate([corners, np.ones((8, 1))], 1) @ self.P2.T
        front = hom[:, 2] > 0.5
        with np.errstate(divide='ignore', invalid='ignore'):
            uv = hom[:, :2] / hom[:, 2:3]
        h, w = IMAGE_SHAPE
        inside = front & (uv[:, 0] >= 0) & (uv[:, 0] <= w) & (
            uv[:, 1] >= 0) & (uv[:, 1] <= h)
        if front.all():
            u0, v0 = uv.min(0)
            u1, v1 = uv.max(0)
            return bool(u1 > 0 and u0 < w and v1 > 0 and v0 < h)
        if inside.any() or front.any():
            return None  # crosses the image plane: projection undefined
        return False

    def try_place(self,
                  name: str,
                  mode: str,
                  need_image: bool,
                  near: bool = False,
                  tries: int = 40) -> bool:
        """Sample a collision-free box; returns whether one was placed.

        Args:
            name (str): Class name ('Car', 'Pedestrian', 'Cyclist' or
                'Bicycle').
            mode (str): Where to put it ('lane', 'parked', 'free',
                'sidewalk', 'crossing' or 'bike').
            need_image (bool): Whether it must be in the CAM2 image.
            near (bool): Place it between 6 and 22 m ahead.
                Defaults to False.
            tries (int): Number of attempts. Defaults to 40.
        """
        rng, lay = self.rng, self.layout
        for _ in range(tries):
            size = _sample_size(rng, name)
            if near:
                x = rng.uniform(6, 22)
            elif need_image:
                # most objects close enough to be easy or moderate
                far = min(42. if name == 'Car' else 30., self.max_distance)
                if rng.random() < (0.8 if name == 'Car' else 0.85):
                    x = rng.uniform(4, far)
                else:
                    x = rng.uniform(far, self.max_distance)
            else:
                x = rng.uniform(-45, self.max_distance)
            n_lanes = max(1, int(lay.road_hw // lay.lane_width))
            side = int(rng.integers(2))
            sgn = 1. if side else -1.
            if mode == 'lane':
                lane = int(rng.integers(n_lanes))
                y = sgn * lay.lane_width * (lane + 0.5) + rng.normal(0, 0.25)
                yaw = (np.pi if side else 0.) + rng.normal(0, 0.03)
            elif mode == 'parked':
                curb = float(lay.curb_line(np.array(x), side))
                if curb > lay.road_hw:
                    y = sgn * (lay.road_hw + 0.5 * lay.park_w)
                else:
                    y = sgn * (lay.road_hw - 0.5 * size[1] - 0.25)
                yaw = (np.pi if side else 0.) + rng.normal(0, 0.05)
                if rng.random() < 0.2:
                    yaw += np.pi
            elif mode == 'free':
                y = rng.uniform(-lay.road_hw + 1, lay.road_hw - 1)
                yaw = rng.uniform(-np.pi, np.pi)
            elif mode == 'sidewalk':
                curb = float(lay.curb_line(np.array(x), side))
                y = sgn * rng.uniform(curb + 0.4, lay.prop_line(side) - 0.4)
                yaw = rng.uniform(-np.pi, np.pi)
            elif mode == 'crossing':
                y = rng.uniform(-lay.road_hw, lay.road_hw)
                yaw = rng.choice([-1., 1.]) * np.pi / 2 + rng.normal(0, 0.3)
            elif mode == 'bike':
                y = sgn * (lay.road_hw - rng.uniform(0.5, 1.2))
                yaw = (np.pi if side else 0.) + rng.normal(0, 0.08)
            else:
                raise ValueError(f'unknown placement mode {mode}')
            z = float(lay.height(np.array(x), np.array(y)))
            box = np.array([x, y, z, *size, _wrap(yaw)])
            bev = np.array([x, y, size[0], size[1], box[6]])
            margin = 0.3 if name == 'Car' else 0.15
            if bev_overlaps(bev, self.ego, margin).any():
                continue
            if bev_overlaps(bev, self.footprints, 0.05).any():
                continue
            if self.boxes:
                others = np.array(self.boxes)[:, [0, 1, 3, 4, 6]]
                if bev_overlaps(bev, others, margin).any():
                    continue
            vis = self.visibility(box)
            if vis is None or (need_image and not vis):
                continue
            self.boxes.append(box)
            self.names.append(name)
            self.in_image.append(bool(vis))
            return True
        return False


def _wrap(a: float) -> float:
    return float(_limit_period(np.array(a)))


def _plane_text(plane: Tuple[float, float, float], pose: Sequence[float],
                lidar2cam: np.ndarray) -> str:
    """KITTI plane file (camera frame) for a world road plane."""
    a, b, c = sensor_plane(plane, pose)
    norm = np.sqrt(a * a + b * b + 1)
    n_l = np.array([-a, -b, 1.]) / norm
    d_l = -c / norm
    n_c = lidar2cam[:3, :3] @ n_l
    d_c = d_l - n_c @ lidar2cam[:3, 3]
    scale = np.linalg.norm(n_c)
    vals = np.append(n_c, d_c) / scale
    return ('# Matrix\nWIDTH 4\nHEIGHT 1\n' +
            ' '.join(f'{v:.6e}' for v in vals) + '\n')


def simulate_frame(rng: np.random.Generator,
                   cfg: KittiSynthConfig,
                   calib: Dict[str, np.ndarray],
                   force_all_classes: bool = False,
                   max_tries: int = 10) -> KittiFrame:
    """Simulate one KITTI frame.

    Args:
        rng (np.random.Generator): Random generator of the frame.
        cfg (:obj:`KittiSynthConfig`): Data set configuration.
        calib (dict): Parsed calibration.
        force_all_classes (bool): Place at least one pedestrian and one
            cyclist close to the sensor in the image, and re-sample the
            scene (up to ``max_tries`` times) until each of the three
            classes has a box that ObjectSample's database would keep
            (difficulty >= 0 and at least 5 points). Defaults to False.
        max_tries (int): See ``force_all_classes``. Defaults to 10.

    Returns:
        :obj:`KittiFrame`: Scan, label lines and plane.
    """
    for _ in range(max_tries if force_all_classes else 1):
        frame = _simulate_frame(rng, cfg, calib, force_all_classes)
        usable = {
            name
            for name, n_pts, diff in frame.label_stats
            if n_pts >= 5 and diff >= 0
        }
        if usable >= {'Car', 'Pedestrian', 'Cyclist'}:
            break
    return frame


def _simulate_frame(rng: np.random.Generator, cfg: KittiSynthConfig,
                    calib: Dict[str, np.ndarray],
                    force_all_classes: bool) -> KittiFrame:
    """One attempt of :func:`simulate_frame`."""
    lcfg = cfg.lidar
    slope = np.clip(rng.normal(0, 0.004, 2), -0.01, 0.01)
    plane = (float(slope[0]), float(slope[1]), 0.)
    p_build = rng.uniform(0.3, 0.95)
    street = build_street(rng, -95., 100., plane,
                          (p_build, rng.uniform(0.3, 0.95)))
    lay = street.layout
    n_lanes = max(1, int(lay.road_hw // lay.lane_width))
    ego_y = -lay.lane_width * (int(rng.integers(n_lanes)) + 0.5)
    ego_y += rng.normal(0, 0.2)
    pose = (0., ego_y, plane[1] * ego_y + lcfg.sensor_height,
            rng.normal(0, np.deg2rad(2.)))

    placer = _Placer(rng, street, pose, calib, cfg.max_distance)
    n_cars = int(rng.integers(cfg.num_cars[0], cfg.num_cars[1] + 1))
    n_ped = int(rng.choice(len(cfg.ped_probs), p=cfg.ped_probs))
    n_cyc = int(rng.choice(len(cfg.cyc_probs), p=cfg.cyc_probs))
    if force_all_classes:
        for name, mode in (('Pedestrian', 'sidewalk'), ('Cyclist', 'bike')):
            placer.try_place(name, mode, True, near=True, tries=200)
    for _ in range(n_cars):
        u = rng.random()
        mode = 'lane' if u < 0.45 else 'parked' if u < 0.9 else 'free'
        placer.try_place('Car', mode, rng.random() < 0.85)
    for _ in range(n_ped):
        placer.try_place('Pedestrian',
                         'crossing' if rng.random() < 0.2 else 'sidewalk',
                         rng.random() < 0.9)
    for _ in range(n_cyc):
        placer.try_place('Cyclist', 'bike', rng.random() < 0.9)
    if rng.random() < 0.3:
        # a parked bicycle without rider: unlabelled distractor
        placer.try_place('Bicycle', 'sidewalk', False)

    # round the annotations like KITTI's label text, then rebuild the
    # geometry from the rounded boxes so labels and points agree exactly
    lidar2cam = calib['R0_rect'] @ calib['Tr_velo_to_cam']
    # KittiDataset converts the labels with the float32 matrix of the infos
    lidar2cam32 = lidar2cam_matrix(calib)
    builder = SceneBuilder()
    cam_boxes = []
    for k, (box, name) in enumerate(zip(placer.boxes, placer.names)):
        cam = lidar_to_cam_boxes(placer.world_to_lidar(box), lidar2cam)[0]
        cam = np.round(cam, 2)
        cam_boxes.append(cam)
        lbox = cam_to_lidar_boxes(cam, lidar2cam32)[0]
        wbox = placer.lidar_to_world(lbox)
        if name == 'Car':
            add_car(builder, wbox, rng, inst=k + 1, obj=k)
        elif name == 'Pedestrian':
            add_pedestrian(builder, wbox, rng, inst=k + 1, obj=k)
        elif name == 'Cyclist':
            add_cycle(builder, wbox, rng, SEM_IDS['bicyclist'], k + 1, k)
        else:
            add_cycle(builder, wbox, rng, SEM_IDS['bicycle'], k + 1, k,
                      rider=False)
    builder.extend(street.static)
    scan = cast_scan(builder.build(), lay, pose, lcfg, rng,
                     num_objects=len(placer.boxes))

    lines, stats = [], []
    reduced = scan.points[in_image_mask(scan.points, calib)]
    for k, (name, cam) in enumerate(zip(placer.names, cam_boxes)):
        if name not in ('Car', 'Pedestrian', 'Cyclist'):
            continue
        if not placer.in_image[k]:
            continue
        lbox = cam_to_lidar_boxes(cam.astype(np.float32),
                                  lidar2cam32).astype(np.float32)
        n_pts = int(points_in_lidar_boxes(reduced, lbox).sum())
        if n_pts == 0:
            continue  # invisible: not annotated
        corners = cam_box_corners(cam)[0]
        uv, _ = project_to_image(corners, calib['P2'])
        u0, v0 = uv.min(0).astype(np.float64)
        u1, v1 = uv.max(0).astype(np.float64)
        h, w = IMAGE_SHAPE
        cu0, cv0 = max(u0, 0.), max(v0, 0.)
        cu1, cv1 = min(u1, float(w)), min(v1, float(h))
        area = max(u1 - u0, 1e-6) * max(v1 - v0, 1e-6)
        inside = max(cu1 - cu0, 0.) * max(cv1 - cv0, 0.)
        trunc = float(np.clip(1. - inside / area, 0., 1.))
        total = max(int(scan.obj_total[k]), 1)
        vis = scan.obj_visible[k] / total
        occ = 0 if vis >= 0.7 else 1 if vis >= 0.3 else 2
        alpha = _wrap(cam[6] - np.arctan2(cam[0], cam[2]))
        x, y, z, l, hh, ww, ry = cam
        lines.append(f'{name} {trunc:.2f} {occ:d} {alpha:.2f} {cu0:.2f} '
                     f'{cv0:.2f} {cu1:.2f} {cv1:.2f} {hh:.2f} {ww:.2f} '
                     f'{l:.2f} {x:.2f} {y:.2f} {z:.2f} {ry:.2f}')
        diff = kitti_difficulty(
            np.array([round(cv1, 2) - round(cv0, 2)]), np.array([occ]),
            np.array([round(trunc, 2)]))[0]
        stats.append((name, n_pts, int(diff)))
    return KittiFrame(scan.points, lines,
                      _plane_text(plane, pose, lidar2cam), stats)


# ---------------------------------------------------------------------------
# Info files (mmdet3d v2 format, as update_infos_to_v2.update_kitti_infos).
# ---------------------------------------------------------------------------


def parse_label_lines(lines: Sequence[str]) -> Dict[str, np.ndarray]:
    """Parse label lines like mmdet3d's ``get_label_anno``.

    Args:
        lines (Sequence[str]): KITTI label lines.

    Returns:
        dict: name, truncated, occluded, alpha, bbox, dimensions (l, h, w),
        location, rotation_y.
    """
    content = [line.strip().split(' ') for line in lines]
    return dict(
        name=np.array([x[0] for x in content]),
        truncated=np.array([float(x[1]) for x in content]),
        occluded=np.array([int(x[2]) for x in content]),
        alpha=np.array([float(x[3]) for x in content]),
        bbox=np.array([[float(v) for v in x[4:8]]
                       for x in content]).reshape(-1, 4),
        dimensions=np.array([[float(v) for v in x[8:11]] for x in content
                             ]).reshape(-1, 3)[:, [2, 0, 1]],
        location=np.array([[float(v) for v in x[11:14]]
                           for x in content]).reshape(-1, 3),
        rotation_y=np.array([float(x[14]) for x in content]).reshape(-1))


def build_info(sample_idx: int, annos: Dict[str, np.ndarray],
               calib: Dict[str, np.ndarray], plane: np.ndarray,
               num_points: np.ndarray) -> dict:
    """Build a v2 data info entry exactly like ``update_kitti_infos``.

    Args:
        sample_idx (int): Frame index.
        annos (dict): Parsed labels (see :func:`parse_label_lines`).
        calib (dict): Parsed calibration.
        plane (np.ndarray): Ground plane from the plane file, (4, ).
        num_points (np.ndarray): Reduced-cloud points in each box, (K, ).

    Returns:
        dict: The data info.
    """
    lidar2cam = lidar2cam_matrix(calib)
    images = {}
    for i in range(4):
        cam = {}
        if i == 2:
            cam.update(
                img_path=f'{sample_idx:06d}.png',
                height=np.int32(IMAGE_SHAPE[0]),
                width=np.int32(IMAGE_SHAPE[1]))
        cam['cam2img'] = calib[f'P{i}'].tolist()
        cam['lidar2img'] = (calib[f'P{i}'] @ lidar2cam).tolist()
        if i == 2:
            cam['lidar2cam'] = lidar2cam.tolist()
        images[f'CAM{i}'] = cam
    images['R0_rect'] = calib['R0_rect'].astype(np.float32).tolist()
    lidar_points = dict(
        num_pts_feats=4,
        lidar_path=f'{sample_idx:06d}.bin',
        Tr_velo_to_cam=calib['Tr_velo_to_cam'].astype(np.float32).tolist(),
        Tr_imu_to_velo=calib['Tr_imu_to_velo'].astype(np.float32).tolist())
    difficulty = kitti_difficulty(annos['bbox'][:, 3] - annos['bbox'][:, 1],
                                  annos['occluded'], annos['truncated'])
    instances = []
    for i in range(len(annos['name'])):
        label = KITTI_CLASSES.index(annos['name'][i])
        loc = annos['location'][i]
        dims = annos['dimensions'][i]
        center_3d = loc + dims * (np.array([0.5, 0.5, 0.5]) -
                                  np.array([0.5, 1.0, 0.5]))
        uv, depth = project_to_image(center_3d[None], calib['P2'])
        instances.append(
            dict(
                bbox=annos['bbox'][i].tolist(),
                bbox_label=label,
                bbox_3d=np.concatenate(
                    [loc, dims, annos['rotation_y'][i:i + 1]]).tolist(),
                bbox_label_3d=label,
                depth=float(depth[0]),
                center_2d=[float(uv[0, 0]), float(uv[0, 1])],
                num_lidar_pts=int(num_points[i]),
                difficulty=int(difficulty[i]),
                truncated=float(annos['truncated'][i]),
                occluded=int(annos['occluded'][i]),
                alpha=float(annos['alpha'][i]),
                score=0.0,
                index=i,
                group_id=i))
    return dict(
        sample_idx=sample_idx,
        images=images,
        lidar_points=lidar_points,
        instances=instances,
        plane=np.asarray(plane, dtype=np.float64))


def kitti_metainfo() -> dict:
    """``metainfo`` of the info files, as in the real KITTI infos.

    ``update_infos_to_v2`` maps the classes outside KittiDataset's list
    (DontCare in the real labels) to -1; the synthetic labels hold no
    DontCare box but the entry is kept so that the dict is identical.
    """
    categories = {k: i for i, k in enumerate(KITTI_CLASSES)}
    categories['DontCare'] = -1
    return dict(categories=categories, dataset='kitti', info_version='1.1')


def _dump_pkl(obj: object, path: str) -> None:
    # protocol 2 is what mmengine.dump uses for pickle files
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=2)


def create_kitti_dataset(out_dir: str,
                         seed: int = 0,
                         cfg: Optional[KittiSynthConfig] = None) -> dict:
    """Generate a synthetic KITTI data set.

    Frame ``i`` uses the generator ``np.random.default_rng([seed, 0, i])``,
    so the output depends only on the seed and the configuration. Frames
    ``0 .. num_train - 1`` form the train split, the following ones the
    val split. The first frame of each split contains at least one
    pedestrian and one cyclist so that every class is present.

    Args:
        out_dir (str): Output root (``data_root`` of the configs).
        seed (int): Random seed. Defaults to 0.
        cfg (:obj:`KittiSynthConfig`, optional): Size and content.
            Defaults to None (default configuration).

    Returns:
        dict: Statistics: number of frames, points per frame, objects per
        class.
    """
    cfg = cfg or KittiSynthConfig()
    calib = parse_calib(KITTI_CALIB_TEXT)
    lidar2cam = lidar2cam_matrix(calib)
    dirs = {
        k: osp.join(out_dir, 'training', k)
        for k in ('velodyne', 'velodyne_reduced', 'label_2', 'calib',
                  'planes')
    }
    for d in (*dirs.values(), osp.join(out_dir, 'ImageSets'),
              osp.join(out_dir, 'kitti_gt_database')):
        os.makedirs(d, exist_ok=True)
    splits = {
        'train': list(range(cfg.num_train)),
        'val': list(range(cfg.num_train, cfg.num_train + cfg.num_val)),
    }
    infos: Dict[str, List[dict]] = {}
    db_infos: Dict[str, List[dict]] = {}
    group_counter = 0
    stats = dict(num_frames=0, num_points=[], num_reduced=[], classes={})
    # per split: frames and labelled objects per class and KITTI
    # difficulty (0 easy, 1 moderate, 2 hard, -1 none), for the settings
    # file (what a study's validation set can tell)
    split_counts: Dict[str, dict] = {}
    for split, ids in splits.items():
        infos[split] = []
        counts = split_counts[split] = dict(num_frames=len(ids), objects={})
        for n, idx in enumerate(ids):
            rng = np.random.default_rng([seed, 0, idx])
            frame = simulate_frame(rng, cfg, calib, force_all_classes=n == 0)
            name = f'{idx:06d}'
            points = frame.points
            reduced = points[in_image_mask(points, calib)]
            points.tofile(osp.join(dirs['velodyne'], name + '.bin'))
            reduced.tofile(osp.join(dirs['velodyne_reduced'], name + '.bin'))
            with open(osp.join(dirs['label_2'], name + '.txt'), 'w') as f:
                f.write(''.join(line + '\n' for line in frame.label_lines))
            with open(osp.join(dirs['calib'], name + '.txt'), 'w') as f:
                f.write(KITTI_CALIB_TEXT)
            with open(osp.join(dirs['planes'], name + '.txt'), 'w') as f:
                f.write(frame.plane_text)
            annos = parse_label_lines(frame.label_lines)
            plane = np.array(
                [float(v) for v in frame.plane_text.split('\n')[3].split()])
            cam_boxes = np.concatenate([
                annos['location'], annos['dimensions'],
                annos['rotation_y'][:, None]
            ], 1).astype(np.float32)
            # LiDAR boxes as KittiDataset derives them (float32)
            lidar_boxes = cam_to_lidar_boxes(cam_boxes,
                                             lidar2cam).astype(np.float32)
            inside = points_in_lidar_boxes(reduced, lidar_boxes)
            num_pts = inside.sum(0)
            info = build_info(idx, annos, calib, plane, num_pts)
            infos[split].append(info)
            stats['num_frames'] += 1
            stats['num_points'].append(len(points))
            stats['num_reduced'].append(len(reduced))
            for k, inst in enumerate(info['instances']):
                cname = KITTI_CLASSES[inst['bbox_label']]
                stats['classes'][cname] = stats['classes'].get(cname, 0) + 1
                per_class = counts['objects'].setdefault(
                    cname, dict(total=0, by_difficulty={}))
                per_class['total'] += 1
                diff = str(int(inst['difficulty']))
                per_class['by_difficulty'][diff] = \
                    per_class['by_difficulty'].get(diff, 0) + 1
                if split != 'train':
                    continue
                fname = f'{idx}_{cname}_{k}.bin'
                gt_points = reduced[inside[:, k]].copy()
                gt_points[:, :3] -= lidar_boxes[k, :3]
                gt_points.tofile(
                    osp.join(out_dir, 'kitti_gt_database', fname))
                db_infos.setdefault(cname, []).append(
                    dict(
                        name=cname,
                        path=osp.join('kitti_gt_database', fname),
                        image_idx=idx,
                        gt_idx=k,
                        box3d_lidar=lidar_boxes[k],
                        num_points_in_gt=int(gt_points.shape[0]),
                        difficulty=np.int32(inst['difficulty']),
                        group_id=group_counter))
                group_counter += 1
            if (n + 1) % 10 == 0 or n + 1 == len(ids):
                print_log(
                    f'kitti {split}: {n + 1}/{len(ids)} frames', 'current')
        with open(osp.join(out_dir, 'ImageSets', f'{split}.txt'), 'w') as f:
            f.write(''.join(f'{i:06d}\n' for i in ids))
        _dump_pkl(
            dict(metainfo=kitti_metainfo(), data_list=infos[split]),
            osp.join(out_dir, f'kitti_infos_{split}.pkl'))
    with open(osp.join(out_dir, 'ImageSets', 'trainval.txt'), 'w') as f:
        f.write(''.join(f'{i:06d}\n'
                        for i in splits['train'] + splits['val']))
    _dump_pkl(
        dict(
            metainfo=kitti_metainfo(),
            data_list=infos['train'] + infos['val']),
        osp.join(out_dir, 'kitti_infos_trainval.pkl'))
    _dump_pkl(db_infos, osp.join(out_dir, 'kitti_dbinfos_train.pkl'))
    with open(osp.join(out_dir, SETTINGS_FILE), 'w') as f:
        json.dump(
            dict(generator_settings(seed, cfg), splits=split_counts),
            f,
            indent=2)
    stats['splits'] = split_counts
    return stats


def generator_settings(seed: int, cfg: KittiSynthConfig) -> dict:
    """The seed and configuration that determine a generated data set.

    Written to ``SETTINGS_FILE`` in the data root (with ``splits``: frames
    and labelled objects per class and difficulty of each split), so that
    a tool can tell whether existing data matches the settings it wants.
    """
    return dict(generator='distill3d.synthetic.kitti', seed=seed,
                config=json.loads(json.dumps(asdict(cfg))))
