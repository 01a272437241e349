"""The synthetic SemanticKITTI generator writes the real on-disk format.

Checks scans, labels (semantic ids, persistent instance ids), poses and
calibration, the info files of mmdet3d's converter, and loads the data set
with mmdet3d's ``SemanticKittiDataset`` and the Cylinder3D pipeline.
"""
import filecmp
import hashlib
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from scipy.spatial import cKDTree

from distill3d.datasets.synthetic.lidar_sim import SEM_IDS
from distill3d.datasets.synthetic.semantickitti import (
    VALID_SEM_IDS, SemanticKittiSynthConfig, create_semantickitti_dataset,
    parse_semantickitti_calib)

THING_IDS = {10, 11, 15, 18, 20, 30, 31, 32}
# the 19 classes of the benchmark (unlabelled 0 excluded)
CLASS_IDS = set(VALID_SEM_IDS) - {0}
FRAMES = 5
SEQS = {'train': (0, 1), 'val': (8, )}
# mmdet3d/configs/_base_/datasets/semantickitti.py
LABELS_MAP = {
    0: 19, 1: 19, 10: 0, 11: 1, 13: 4, 15: 2, 16: 4, 18: 3, 20: 4, 30: 5,
    31: 6, 32: 7, 40: 8, 44: 9, 48: 10, 49: 11, 50: 12, 51: 13, 52: 19,
    60: 8, 70: 14, 71: 15, 72: 16, 80: 17, 81: 18, 99: 19, 252: 0, 253: 6,
    254: 5, 255: 7, 256: 4, 257: 4, 258: 3, 259: 4
}


@pytest.fixture(scope='module')
def sk_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp('semantickitti_synth'))
    create_semantickitti_dataset(
        root,
        seed=0,
        cfg=SemanticKittiSynthConfig(
            train_seqs=SEQS['train'],
            val_seqs=SEQS['val'],
            frames_per_seq=FRAMES))
    return root


def _scan(root: str, seq: int, j: int):
    base = osp.join(root, 'sequences', f'{seq:02d}')
    pts = np.fromfile(
        osp.join(base, 'velodyne', f'{j:06d}.bin'), dtype=np.float32)
    assert pts.size % 4 == 0
    label = np.fromfile(
        osp.join(base, 'labels', f'{j:06d}.label'), dtype=np.uint32)
    pts = pts.reshape(-1, 4)
    assert len(label) == len(pts)
    return pts, label


def _read_poses(root: str, seq: int) -> np.ndarray:
    rows = np.loadtxt(osp.join(root, 'sequences', f'{seq:02d}', 'poses.txt'))
    assert rows.shape == (FRAMES, 12)
    poses = np.tile(np.eye(4), (FRAMES, 1, 1))
    poses[:, :3] = rows.reshape(-1, 3, 4)
    return poses


def _to_world(root: str, seq: int, j: int, pts: np.ndarray) -> np.ndarray:
    """p_world = pose_j @ Tr @ p_velo, as with the real data."""
    text = open(osp.join(root, 'sequences', f'{seq:02d}', 'calib.txt')).read()
    tr = parse_semantickitti_calib(text)['Tr']
    pose = _read_poses(root, seq)[j]
    hom = np.c_[pts[:, :3].astype(np.float64), np.ones(len(pts))]
    return (pose @ tr @ hom.T).T[:, :3]


def test_scans_and_labels(sk_root):
    seen = set()
    for seq in SEQS['train'] + SEQS['val']:
        for j in range(FRAMES):
            pts, label = _scan(sk_root, seq, j)
            assert 10000 < len(pts) < 30000
            assert np.linalg.norm(pts[:, :3], axis=1).max() <= 81
            assert np.all((pts[:, 3] >= 0) & (pts[:, 3] < 1))
            sem, inst = label & 0xFFFF, label >> 16
            assert set(np.unique(sem).tolist()) <= set(VALID_SEM_IDS)
            seen |= set(np.unique(sem).tolist())
            # instance ids only on things, each instance one class
            thing = np.isin(sem, list(THING_IDS))
            assert np.all(inst[~thing] == 0) and np.all(inst[thing] > 0)
            for i in np.unique(inst[thing]):
                assert len(np.unique(sem[inst == i])) == 1
            # ground (road) ~1.73 m below the sensor
            assert abs(np.median(pts[sem == 40, 2]) + 1.73) < 0.3
    assert seen >= CLASS_IDS  # all 19 classes are present
    # class imbalance: stuff dominates, the rare things are small
    counts = {}
    for seq in SEQS['train']:
        for j in range(FRAMES):
            sem = _scan(sk_root, seq, j)[1] & 0xFFFF
            for k, c in zip(*np.unique(sem, return_counts=True)):
                counts[int(k)] = counts.get(int(k), 0) + int(c)
    total = sum(counts.values())
    big = sum(counts.get(k, 0) for k in (40, 48, 50, 70, 10))
    rare = sum(counts.get(k, 0) for k in (11, 15, 20, 30, 31, 32))
    assert big > 0.5 * total and rare < 0.08 * total


def test_poses_calib_and_persistent_instances(sk_root):
    for seq in SEQS['train'] + SEQS['val']:
        base = osp.join(sk_root, 'sequences', f'{seq:02d}')
        calib = parse_semantickitti_calib(open(osp.join(base,
                                                        'calib.txt')).read())
        assert set(calib) == {'P0', 'P1', 'P2', 'P3', 'Tr'}
        times = np.loadtxt(osp.join(base, 'times.txt'))
        assert times.shape == (FRAMES, ) and np.all(np.diff(times) > 0.09)
        poses = _read_poses(sk_root, seq)
        np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-6)
        # the car drives forward: camera z grows by speed * 0.1 s
        step = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
        assert np.all((step > 0.3) & (step < 1.2))
        assert np.all(np.diff(poses[:, 2, 3]) > 0.3)
        for j in range(FRAMES - 1):
            p0, l0 = _scan(sk_root, seq, j)
            p1, l1 = _scan(sk_root, seq, j + 1)
            w0 = _to_world(sk_root, seq, j, p0)
            w1 = _to_world(sk_root, seq, j + 1, p1)
            # static structures line up in the world frame
            for sem in (40, 50):
                a, b = w0[(l0 & 0xFFFF) == sem], w1[(l1 & 0xFFFF) == sem]
                if len(a) > 100 and len(b) > 100:
                    assert np.median(cKDTree(a).query(b)[0]) < 0.25
            # things keep their id and move at most like a fast vehicle
            i0, i1 = l0 >> 16, l1 >> 16
            common = np.intersect1d(i0[i0 > 0], i1[i1 > 0])
            assert len(common) >= 3
            for i in common:
                a, b = w0[i0 == i], w1[i1 == i]
                if len(a) >= 10 and len(b) >= 10:
                    assert np.linalg.norm(a.mean(0) - b.mean(0)) < 2.5


def test_infos(sk_root):
    for split, seqs in SEQS.items():
        with open(osp.join(sk_root, f'semantickitti_infos_{split}.pkl'),
                  'rb') as f:
            infos = pickle.load(f)
        assert infos['metainfo'] == dict(DATASET='SemanticKITTI')
        assert len(infos['data_list']) == FRAMES * len(seqs)
        for k, info in enumerate(infos['data_list']):
            seq, j = seqs[k // FRAMES], k % FRAMES
            assert info == {
                'lidar_points': {
                    'lidar_path':
                    f'sequences/{seq:02d}/velodyne/{j:06d}.bin',
                    'num_pts_feats': 4
                },
                'pts_semantic_mask_path':
                f'sequences/{seq:02d}/labels/{j:06d}.label',
                'sample_id': f'{seq}{j}'
            }
            assert osp.exists(
                osp.join(sk_root, info['lidar_points']['lidar_path']))
            assert osp.exists(
                osp.join(sk_root, info['pts_semantic_mask_path']))
    assert not osp.exists(osp.join(sk_root, 'semantickitti_infos_test.pkl'))


def test_deterministic(tmp_path):
    cfg = SemanticKittiSynthConfig(
        train_seqs=(0, ), val_seqs=(), frames_per_seq=2)
    for name, seed in (('a', 5), ('b', 5), ('c', 6)):
        create_semantickitti_dataset(str(tmp_path / name), seed, cfg)
    files = []
    for dirpath, _, names in os.walk(tmp_path / 'a'):
        files += [
            osp.relpath(osp.join(dirpath, n), tmp_path / 'a') for n in names
        ]
    assert len(files) == 4 + 3 + 1  # scans + labels, txt files, info pkl
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert not mismatch and not errors
    scan = osp.join('sequences', '00', 'velodyne', '000000.bin')
    assert not filecmp.cmp(tmp_path / 'a' / scan, tmp_path / 'c' / scan,
                           shallow=False)


def test_moving_ids(tmp_path):
    cfg = SemanticKittiSynthConfig(
        train_seqs=(3, ), val_seqs=(), frames_per_seq=2, moving_ids=True)
    create_semantickitti_dataset(str(tmp_path), 0, cfg)
    sem = _scan(str(tmp_path), 3, 0)[1] & 0xFFFF
    ids = set(np.unique(sem).tolist())
    assert ids & {252, 253, 254, 255, 258, 259}
    assert ids <= set(VALID_SEM_IDS) | {252, 253, 254, 255, 258, 259}


def _fingerprint(root: str, seq: int, frame: int) -> str:
    digest = hashlib.sha256()
    for name in (f'velodyne/{frame:06d}.bin', f'labels/{frame:06d}.label'):
        with open(osp.join(root, 'sequences', f'{seq:02d}', name), 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()[:16]


def test_hard_rounds_add_rare_instances(tmp_path, monkeypatch):
    """``hard_rounds`` places every rare kind again along the drive;
    at 1 (default) the data are those of the code before the option
    (fingerprint made with commit 796b78c)."""
    cfg = SemanticKittiSynthConfig(
        train_seqs=(4, ), val_seqs=(), frames_per_seq=2)
    create_semantickitti_dataset(str(tmp_path / 'one'), 0, cfg)
    assert _fingerprint(str(tmp_path / 'one'), 4, 1) == '6fb6c30a122b3129'
    cfg.hard_rounds = 3
    create_semantickitti_dataset(str(tmp_path / 'three'), 0, cfg)
    hard = [SEM_IDS[k] for k in ('truck', 'other_vehicle', 'motorcycle',
                                 'bicycle', 'person', 'bicyclist',
                                 'motorcyclist')]

    def hard_instances(root):
        found = set()
        for j in range(2):
            label = _scan(root, 4, j)[1]
            sem, inst = label & 0xFFFF, label >> 16
            found |= set(inst[np.isin(sem, hard)].tolist())
        return len(found)

    assert hard_instances(str(tmp_path / 'three')) > \
        hard_instances(str(tmp_path / 'one'))
    cfg.hard_rounds = 0
    with pytest.raises(ValueError, match='hard_rounds'):
        create_semantickitti_dataset(str(tmp_path / 'zero'), 0, cfg)
    # the CLI's --hard-rounds reaches the generator
    import runpy
    import sys

    from helpers import REPO
    monkeypatch.setattr(sys, 'argv', [
        'create_synthetic_data.py', 'semantickitti', '--out-dir',
        str(tmp_path / 'cli'), '--train-seqs', '4', '--val-seqs',
        '--frames-per-seq', '2', '--hard-rounds', '3'
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'create_synthetic_data.py'),
                   run_name='__main__')
    assert _fingerprint(str(tmp_path / 'cli'), 4, 1) == \
        _fingerprint(str(tmp_path / 'three'), 4, 1)


def test_mmdet3d_semantickitti_dataset_cylinder3d_pipeline(sk_root):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    load = [
        dict(
            type='LoadPointsFromFile',
            coord_type='LIDAR',
            load_dim=4,
            use_dim=4),
        dict(
            type='LoadAnnotations3D',
            with_bbox_3d=False,
            with_label_3d=False,
            with_seg_3d=True,
            seg_3d_dtype='np.int32',
            seg_offset=2**16,
            dataset_type='semantickitti'),
        dict(type='PointSegClassMapping'),
    ]
    train_aug = [
        dict(
            type='RandomFlip3D',
            sync_2d=False,
            flip_ratio_bev_horizontal=0.5,
            flip_ratio_bev_vertical=0.5),
        dict(
            type='GlobalRotScaleTrans',
            rot_range=[-0.78539816, 0.78539816],
            scale_ratio_range=[0.95, 1.05],
            translation_std=[0.1, 0.1, 0.1]),
    ]
    pack = [dict(type='Pack3DDetInputs', keys=['points', 'pts_semantic_mask'])]
    class_names = [
        'car', 'bicycle', 'motorcycle', 'truck', 'bus', 'person',
        'bicyclist', 'motorcyclist', 'road', 'parking', 'sidewalk',
        'other-ground', 'building', 'fence', 'vegetation', 'trunck',
        'terrian', 'pole', 'traffic-sign'
    ]
    metainfo = dict(
        classes=class_names, seg_label_mapping=LABELS_MAP, max_label=259)
    for split, pipeline in (('train', load + train_aug + pack),
                            ('val', load + pack)):
        dataset = DATASETS.build(
            dict(
                type='SemanticKittiDataset',
                data_root=sk_root,
                ann_file=f'semantickitti_infos_{split}.pkl',
                pipeline=pipeline,
                metainfo=metainfo,
                modality=dict(use_lidar=True, use_camera=False),
                ignore_index=19,
                test_mode=split == 'val'))
        assert len(dataset) == FRAMES * len(SEQS[split])
        sample = dataset[1]
        points = sample['inputs']['points']
        mask = sample['data_samples'].gt_pts_seg.pts_semantic_mask
        seq = SEQS[split][0]
        raw_pts, raw = _scan(sk_root, seq, 1)
        assert points.shape == (len(raw_pts), 4)
        mask = np.asarray(mask)
        assert mask.shape == (len(raw_pts), )
        assert mask.min() >= 0 and mask.max() <= 19
        expected = np.array([LABELS_MAP[int(s)] for s in raw & 0xFFFF])
        np.testing.assert_array_equal(mask, expected)
        assert np.all((mask == 19) == ((raw & 0xFFFF) == 0))
