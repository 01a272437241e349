# Copyright (c) distill3d contributors. All rights reserved.
"""Synthetic SemanticKITTI data set in the real on-disk format.

The layout written under ``out_dir`` is the one of SemanticKITTI plus the
info files of mmdet3d's ``semantickitti_converter.py``::

    out_dir
    ├── sequences
    │   └── XX
    │       ├── calib.txt          P0..P3 and Tr (velodyne -> camera 0)
    │       ├── poses.txt          3x4 camera-0 poses in the first camera
    │       ├── times.txt          timestamps in seconds
    │       ├── velodyne/%06d.bin  float32 (N, 4): x, y, z, remission
    │       └── labels/%06d.label  uint32 (N, ): semantic id (low 16 bits)
    │                                 | instance id << 16
    └── semantickitti_infos_{train,val[,test]}.pkl

Each sequence is a drive along a straight street: the ego vehicle follows
its lane with a slight lateral drift, cars, trucks, buses, bicyclists and
motorcyclists drive, pedestrians walk, the rest (parked vehicles, bicycles
and motorcycles, buildings, vegetation, poles, signs, ...) stands still.
Instance ids are unique within a sequence and persistent over its frames.
The poses satisfy ``p_world = pose_j @ Tr @ p_velodyne_j`` like the real
data, the world being the camera frame of the first scan.
"""
import os
import os.path as osp
import pickle
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from .kitti import KITTI_CALIB_TEXT, parse_calib
from .lidar_sim import (SEM_IDS, LidarConfig, SceneBuilder, Street,
                        StreetLayout, add_bus, add_car, add_cycle,
                        add_pedestrian, add_truck, bev_overlaps_pairs,
                        build_street, cast_scan)

# Semantic ids used for moving things when ``moving_ids`` is enabled.
MOVING_IDS = {10: 252, 31: 253, 30: 254, 32: 255, 20: 259, 18: 258}

# Valid raw ids written by the generator (without the moving ids).
VALID_SEM_IDS = tuple(sorted(SEM_IDS.values()))

# Things placed first in every sequence, near the start, so that every class
# is present; a plan where one of them is hidden in the first scan is
# re-sampled (at most ``_MAX_PLANS`` times).
_RARE_KINDS = ('truck', 'bus', 'motorcycle', 'bicycle', 'person', 'bicyclist',
               'motorcyclist', 'moving_car')
_MAX_PLANS = 5


@dataclass
class SemanticKittiSynthConfig:
    """Size and content of a synthetic SemanticKITTI data set.

    Args:
        train_seqs (Sequence[int]): Training sequence numbers.
            Defaults to (0, 1, 2).
        val_seqs (Sequence[int]): Validation sequence numbers (the real
            validation sequence is 08). Defaults to (8, ).
        test_seqs (Sequence[int]): Test sequence numbers; their labels are
            written too. Defaults to ().
        frames_per_seq (int): Scans per sequence (10 Hz). Defaults to 20.
        lidar (:obj:`LidarConfig`): Simulated sensor.
        moving_ids (bool): Label moving things with SemanticKITTI's
            ``moving-*`` ids (252-259) instead of their static ids.
            Defaults to False.
        hard_rounds (int): How many rounds of rare kinds (truck, bus,
            motorcycle, bicycle, person, bicyclist, motorcyclist, moving
            car) are placed per sequence: one in view of the first scan as
            always, then ``hard_rounds - 1`` more attempts per kind
            anywhere along the drive (an attempt finds no free place now
            and then, so a kind can get fewer instances; no extra random
            draws at 1, so the default data stay bit-identical). More
            rounds give M2SKD's hard classes more instances per sequence.
            Defaults to 1.
    """
    train_seqs: Sequence[int] = (0, 1, 2)
    val_seqs: Sequence[int] = (8, )
    test_seqs: Sequence[int] = ()
    frames_per_seq: int = 20
    lidar: LidarConfig = field(default_factory=LidarConfig)
    moving_ids: bool = False
    hard_rounds: int = 1


def semantickitti_calib_text() -> str:
    """Odometry-style ``calib.txt``: P0..P3 and Tr = R0_rect @ Tr_velo_cam.

    Returns:
        str: The file content.
    """
    calib = parse_calib(KITTI_CALIB_TEXT)
    tr = calib['R0_rect'] @ calib['Tr_velo_to_cam']
    lines = []
    for key, mat in (('P0', calib['P0']), ('P1', calib['P1']),
                     ('P2', calib['P2']), ('P3', calib['P3']), ('Tr', tr)):
        vals = mat[:3, :4].reshape(-1)
        lines.append(key + ': ' + ' '.join(f'{v:.12e}' for v in vals))
    return '\n'.join(lines) + '\n'


def parse_semantickitti_calib(text: str) -> Dict[str, np.ndarray]:
    """Parse ``calib.txt`` into 4x4 matrices (``P0``..``P3``, ``Tr``).

    Args:
        text (str): File content.

    Returns:
        dict: Homogeneous 4x4 float64 matrices.
    """
    out = {}
    for line in text.strip().split('\n'):
        key, vals = line.split(':', 1)
        mat = np.eye(4)
        mat[:3, :4] = np.array([float(v) for v in vals.split()]).reshape(3, 4)
        out[key] = mat
    return out


def _pose_matrix(x: float, y: float, z: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    mat = np.eye(4)
    mat[:2, :2] = [[c, -s], [s, c]]
    mat[:3, 3] = (x, y, z)
    return mat


@dataclass
class Agent:
    """A thing of a sequence (static or moving with constant velocity).

    Args:
        sem (int): Raw semantic id.
        inst (int): Instance id (unique in the sequence).
        size (Tuple[float, float, float]): Box size (l, w, h).
        x0 (float): World x of the bottom centre at t = 0.
        y0 (float): World y of the bottom centre at t = 0.
        yaw (float): Heading in the world frame.
        speed (float): Speed along the heading in m/s.
        shape (Callable): Builder adding its parts, e.g. ``add_car``.
        shape_kwargs (dict): Extra arguments of ``shape``.
        shape_seed (int): Seed of the shape, fixed over the frames.
    """
    sem: int
    inst: int
    size: Tuple[float, float, float]
    x0: float
    y0: float
    yaw: float
    speed: float
    shape: Callable
    shape_kwargs: dict
    shape_seed: int

    def bev(self, t: np.ndarray) -> np.ndarray:
        """BEV rectangles ``(x, y, l, w, yaw)`` at times ``t``, (T, 5)."""
        t = np.atleast_1d(t)
        x = self.x0 + self.speed * np.cos(self.yaw) * t
        y = self.y0 + self.speed * np.sin(self.yaw) * t
        return np.stack([
            x, y,
            np.full_like(t, self.size[0]),
            np.full_like(t, self.size[1]),
            np.full_like(t, self.yaw)
        ], 1)

    def add_to(self,
               builder: SceneBuilder,
               layout: StreetLayout,
               t: float,
               sem: Optional[int] = None) -> None:
        """Add the parts of the agent at time ``t`` to a builder.

        Args:
            builder (:obj:`SceneBuilder`): Builder to add the parts to.
            layout (:obj:`StreetLayout`): Street, for the ground height.
            t (float): Time in seconds.
            sem (int, optional): Semantic id overriding ``self.sem``.
                Defaults to None.
        """
        x, y = self.bev(np.array([t]))[0, :2]
        z = float(layout.height(np.array(x), np.array(y)))
        box = (x, y, z, *self.size, self.yaw)
        self.shape(
            builder,
            box,
            np.random.default_rng(self.shape_seed),
            sem=self.sem if sem is None else sem,
            inst=self.inst,
            **self.shape_kwargs)


class _SequencePlanner:
    """Places agents without collisions over the whole sequence."""

    def __init__(self, rng: np.random.Generator, street: Street,
                 ego_bev: np.ndarray, times: np.ndarray) -> None:
        self.rng = rng
        self.street = street
        self.layout = street.layout
        self.ego_bev = ego_bev  # (T, 5)
        self.times = times  # (T, )
        self.agents: List[Agent] = []
        self.moving: List[bool] = []

    def _free(self, agent: Agent, margin: float) -> bool:
        boxes = agent.bev(self.times)  # (T, 5)
        feet = self.street.footprints
        moving = boxes if agent.speed > 0 else boxes[:1]
        if bev_overlaps_pairs(moving[:, None], feet[None], 0.05).any():
            return False
        if bev_overlaps_pairs(boxes, self.ego_bev, 0.5).any():
            return False
        if self.agents:
            others = np.stack([o.bev(self.times) for o in self.agents])
            if bev_overlaps_pairs(boxes[None], others, margin).any():
                return False
        return True

    def place(self,
              kind: str,
              x_range: Tuple[float, float],
              tries: int = 60) -> bool:
        """Sample and add an agent of a kind; returns whether it fit.

        Args:
            kind (str): One of 'parked_car', 'moving_car', 'truck', 'bus',
                'motorcycle', 'bicycle', 'person', 'bicyclist',
                'motorcyclist'.
            x_range (Tuple[float, float]): World x range at t = 0.
            tries (int): Number of attempts. Defaults to 60.
        """
        rng, lay = self.rng, self.layout
        n_lanes = max(1, int(lay.road_hw // lay.lane_width))
        for _ in range(tries):
            x = rng.uniform(*x_range)
            side = int(rng.integers(2))
            sgn = 1. if side else -1.
            curb = float(lay.curb_line(np.array(x), side))
            lane_y = sgn * lay.lane_width * (int(rng.integers(n_lanes)) + 0.5)
            lane_yaw = np.pi if side else 0.
            kwargs: dict = {}
            speed = 0.
            if kind in ('parked_car', 'moving_car'):
                size = (np.clip(rng.normal(3.9, 0.4), 3.2, 4.9),
                        np.clip(rng.normal(1.65, 0.1), 1.4, 1.95),
                        np.clip(rng.normal(1.53, 0.12), 1.3, 1.9))
                sem, shape = SEM_IDS['car'], add_car
            elif kind == 'truck':
                size = (rng.uniform(6, 10), rng.uniform(2.3, 2.6),
                        rng.uniform(2.8, 3.8))
                sem, shape = SEM_IDS['truck'], add_truck
            elif kind == 'bus':
                size = (rng.uniform(10, 13), 2.5, rng.uniform(3.0, 3.4))
                sem, shape = SEM_IDS['other_vehicle'], add_bus
            elif kind in ('motorcycle', 'motorcyclist'):
                rider = kind == 'motorcyclist'
                size = (rng.uniform(1.9, 2.3), rng.uniform(0.7, 0.85),
                        rng.uniform(1.5, 1.7) if rider else 1.15)
                sem = SEM_IDS[kind]
                shape = add_cycle
                kwargs = dict(rider=rider, motor=True)
            elif kind in ('bicycle', 'bicyclist'):
                rider = kind == 'bicyclist'
                size = (rng.uniform(1.6, 1.85), rng.uniform(0.5, 0.65),
                        rng.uniform(1.6, 1.85) if rider else 1.05)
                sem = SEM_IDS[kind]
                shape = add_cycle
                kwargs = dict(rider=rider)
            elif kind == 'person':
                size = (rng.uniform(0.5, 0.9), rng.uniform(0.5, 0.7),
                        rng.uniform(1.5, 1.9))
                sem, shape = SEM_IDS['person'], add_pedestrian
            else:
                raise ValueError(f'unknown agent kind {kind}')
            l, w = size[0], size[1]
            if kind == 'parked_car' or (kind in ('truck', 'bus')
                                        and rng.random() < 0.5):
                y = (sgn * (lay.road_hw + 0.5 * lay.park_w)
                     if curb > lay.road_hw else sgn *
                     (lay.road_hw - 0.5 * w - 0.25))
                yaw = lane_yaw + rng.normal(0, 0.04)
            elif kind in ('moving_car', 'truck', 'bus', 'motorcyclist'):
                if kind != 'moving_car':
                    # large or rare vehicles come the other way and pass
                    # by quickly, so that they stay rare in the points
                    lane_y, lane_yaw = abs(lane_y), np.pi
                y = lane_y + rng.normal(0, 0.2)
                yaw = lane_yaw + rng.normal(0, 0.01)
                speed = rng.uniform(4, 12)
            elif kind in ('motorcycle', 'bicycle'):
                y = sgn * (curb + rng.uniform(0.3, 0.8))
                yaw = rng.choice([0.5, -0.5]) * np.pi + rng.normal(0, 0.2)
            elif kind == 'bicyclist':
                y = sgn * (lay.road_hw - rng.uniform(0.5, 1.0))
                yaw = lane_yaw + rng.normal(0, 0.02)
                speed = rng.uniform(3, 6)
            else:  # person
                y = sgn * rng.uniform(curb + 0.4, lay.prop_line(side) - 0.4)
                yaw = rng.choice([0., np.pi]) + rng.normal(0, 0.05)
                speed = rng.uniform(0.8, 1.6) if rng.random() < 0.8 else 0.
            agent = Agent(sem, len(self.agents) + 1, tuple(map(float, size)),
                          float(x), float(y), float(yaw), float(speed), shape,
                          kwargs, int(rng.integers(2**31)))
            margin = 0.3 if l > 1.5 else 0.15
            if self._free(agent, margin):
                self.agents.append(agent)
                self.moving.append(speed > 0)
                return True
        return False


@dataclass
class SequenceData:
    """A simulated sequence.

    Args:
        scans (List[np.ndarray]): float32 (N, 4) point clouds.
        labels (List[np.ndarray]): uint32 (N, ) labels.
        poses (np.ndarray): Camera poses, (T, 4, 4).
        times (np.ndarray): Timestamps in seconds, (T, ).
    """
    scans: List[np.ndarray]
    labels: List[np.ndarray]
    poses: np.ndarray
    times: np.ndarray


def simulate_sequence(rng: np.random.Generator,
                      cfg: SemanticKittiSynthConfig) -> SequenceData:
    """Simulate one sequence.

    Args:
        rng (np.random.Generator): Random generator of the sequence.
        cfg (:obj:`SemanticKittiSynthConfig`): Data set configuration.

    Returns:
        :obj:`SequenceData`: Scans, labels, poses and times.
    """
    lcfg = cfg.lidar
    n = cfg.frames_per_seq
    dt = 0.1
    times = np.arange(n) * dt + np.concatenate(
        [[0.], rng.normal(0, 0.0005, n - 1)])
    speed = rng.uniform(4, 10)
    length = speed * times[-1]
    slope = np.clip(rng.normal(0, 0.003, 2), -0.008, 0.008)
    plane = (float(slope[0]), float(slope[1]), 0.)
    street = build_street(rng, -90., length + 90., plane,
                          (rng.uniform(0.4, 0.95), rng.uniform(0.4, 0.95)),
                          guaranteed_x=(6., 30.))
    lay = street.layout
    lane_y = -0.5 * lay.lane_width
    amp, period = rng.uniform(0, 0.4), rng.uniform(4, 10)
    phase = rng.uniform(0, 2 * np.pi)
    ego_x = speed * times
    ego_y = lane_y + amp * np.sin(2 * np.pi * times / period + phase)
    ego_yaw = np.arctan2(
        amp * 2 * np.pi / period * np.cos(2 * np.pi * times / period + phase),
        speed)
    ego_z = plane[0] * ego_x + plane[1] * ego_y + lcfg.sensor_height
    ego_bev = np.stack([
        ego_x - 0.3 * np.cos(ego_yaw), ego_y, np.full(n, 4.6),
        np.full(n, 1.9), ego_yaw
    ], 1)

    calib = parse_semantickitti_calib(semantickitti_calib_text())
    tr = calib['Tr']
    world0_inv = np.linalg.inv(
        _pose_matrix(ego_x[0], ego_y[0], ego_z[0], ego_yaw[0]))
    ego_poses = list(zip(ego_x, ego_y, ego_z, ego_yaw))

    def render(planner: _SequencePlanner, j: int):
        builder = SceneBuilder()
        builder.extend(street.static)
        for agent, moving in zip(planner.agents, planner.moving):
            sem = agent.sem
            if cfg.moving_ids and moving:
                sem = MOVING_IDS.get(sem, sem)
            agent.add_to(builder, lay, float(times[j]), sem)
        return cast_scan(builder.build(), lay, ego_poses[j], lcfg, rng)

    for _ in range(_MAX_PLANS):
        planner = _SequencePlanner(rng, street, ego_bev, times)
        # rare things first, in view of the first scan
        for kind in _RARE_KINDS:
            planner.place(kind, (15., 45.), tries=200)
        rare = {agent.inst for agent in planner.agents}
        span = (-40., length + 60.)
        for _ in range(cfg.hard_rounds - 1):
            for kind in _RARE_KINDS:
                planner.place(kind, span)
        counts = dict(
            parked_car=int(rng.integers(4, 13)),
            moving_car=int(rng.integers(2, 7)),
            person=int(rng.integers(1, 6)),
            bicycle=int(rng.integers(0, 3)),
            motorcycle=int(rng.integers(0, 2)),
            bicyclist=int(rng.integers(0, 2)),
            truck=int(rng.random() < 0.3))
        for kind, num in counts.items():
            for _ in range(num):
                planner.place(kind, span)
        first = render(planner, 0)
        if rare.issubset(set(first.inst.tolist())):
            break  # otherwise re-plan: a rare thing is hidden

    scans, labels, poses = [], [], []
    for j in range(n):
        scan = first if j == 0 else render(planner, j)
        label = (scan.inst.astype(np.uint32) << np.uint32(16)) | \
            scan.sem.astype(np.uint32)
        scans.append(scan.points)
        labels.append(label)
        t_w_l = _pose_matrix(*ego_poses[j])
        poses.append(tr @ world0_inv @ t_w_l @ np.linalg.inv(tr))
    return SequenceData(scans, labels, np.stack(poses), times)


def semantickitti_info(seq: int, frame: int) -> dict:
    """Data info entry exactly as mmdet3d's semantickitti_converter.

    Args:
        seq (int): Sequence number.
        frame (int): Frame number.

    Returns:
        dict: The entry.
    """
    return {
        'lidar_points': {
            'lidar_path':
            osp.join('sequences',
                     str(seq).zfill(2), 'velodyne',
                     str(frame).zfill(6) + '.bin'),
            'num_pts_feats':
            4
        },
        'pts_semantic_mask_path':
        osp.join('sequences',
                 str(seq).zfill(2), 'labels',
                 str(frame).zfill(6) + '.label'),
        'sample_id':
        str(seq) + str(frame)
    }


def create_semantickitti_dataset(
        out_dir: str,
        seed: int = 0,
        cfg: Optional[SemanticKittiSynthConfig] = None) -> dict:
    """Generate a synthetic SemanticKITTI data set.

    Sequence ``s`` uses ``np.random.default_rng([seed, 1, s])``, so a
    sequence does not depend on the other sequences of the split.

    Args:
        out_dir (str): Output root (``data_root`` of the configs).
        seed (int): Random seed. Defaults to 0.
        cfg (:obj:`SemanticKittiSynthConfig`, optional): Size and content.
            Defaults to None (default configuration).

    Returns:
        dict: Statistics: frames, points per frame, points per semantic id.
    """
    cfg = cfg or SemanticKittiSynthConfig()
    if cfg.hard_rounds < 1:
        raise ValueError(f'hard_rounds must be >= 1, got {cfg.hard_rounds}')
    splits = dict(train=cfg.train_seqs, val=cfg.val_seqs, test=cfg.test_seqs)
    seen = [s for seqs in splits.values() for s in seqs]
    if len(seen) != len(set(seen)):
        raise ValueError(f'a sequence is in several splits: {splits}')
    calib_text = semantickitti_calib_text()
    stats: dict = dict(num_frames=0, num_points=[], sem_counts={})
    for split, seqs in splits.items():
        if not seqs:
            continue  # no info file for an empty split
        data_list = []
        for seq in seqs:
            rng = np.random.default_rng([seed, 1, int(seq)])
            data = simulate_sequence(rng, cfg)
            root = osp.join(out_dir, 'sequences', str(seq).zfill(2))
            os.makedirs(osp.join(root, 'velodyne'), exist_ok=True)
            os.makedirs(osp.join(root, 'labels'), exist_ok=True)
            with open(osp.join(root, 'calib.txt'), 'w') as f:
                f.write(calib_text)
            with open(osp.join(root, 'poses.txt'), 'w') as f:
                for pose in data.poses:
                    f.write(' '.join(f'{v:e}' for v in pose[:3].reshape(-1))
                            + '\n')
            with open(osp.join(root, 'times.txt'), 'w') as f:
                f.write(''.join(f'{t:e}\n' for t in data.times))
            for j, (pts, lab) in enumerate(zip(data.scans, data.labels)):
                pts.astype(np.float32).tofile(
                    osp.join(root, 'velodyne', f'{j:06d}.bin'))
                lab.astype(np.uint32).tofile(
                    osp.join(root, 'labels', f'{j:06d}.label'))
                data_list.append(semantickitti_info(int(seq), j))
                stats['num_frames'] += 1
                stats['num_points'].append(len(pts))
                ids, cnt = np.unique(lab & 0xFFFF, return_counts=True)
                for i, c in zip(ids.tolist(), cnt.tolist()):
                    stats['sem_counts'][i] = stats['sem_counts'].get(i, 0) + c
            print_log(
                f'semantickitti {split}: sequence {seq:02d} done '
                f'({len(data.scans)} scans)', 'current')
        with open(osp.join(out_dir, f'semantickitti_infos_{split}.pkl'),
                  'wb') as f:
            pickle.dump(
                dict(
                    metainfo=dict(DATASET='SemanticKITTI'),
                    data_list=data_list),
                f,
                protocol=2)
    return stats
