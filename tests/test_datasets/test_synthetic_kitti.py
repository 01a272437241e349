"""The synthetic KITTI generator writes mmdet3d's real KITTI format.

Checks the files against the format of KITTI and of mmdet3d's converters,
loads the data set with mmdet3d's ``KittiDataset`` and the PointPillars
training pipeline (``ObjectSample`` with the generated GT database and
ground planes), and evaluates the ground truth with ``KittiMetric``.
"""
import filecmp
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest
import torch

from distill3d.datasets.synthetic.kitti import (IMAGE_SHAPE, KITTI_CLASSES,
                                                SETTINGS_FILE,
                                                KittiSynthConfig,
                                                cam_box_corners,
                                                cam_to_lidar_boxes,
                                                create_kitti_dataset,
                                                in_image_mask,
                                                kitti_difficulty,
                                                parse_calib,
                                                points_in_lidar_boxes,
                                                project_to_image)

CLASSES = ['Pedestrian', 'Cyclist', 'Car']
PCR = [0, -39.68, -3, 69.12, 39.68, 1]
# key layout of mmdet3d 1.x KITTI infos (update_infos_to_v2.py)
INFO_KEYS = {'sample_idx', 'images', 'lidar_points', 'instances', 'plane'}
INSTANCE_KEYS = {
    'bbox', 'bbox_label', 'bbox_3d', 'bbox_label_3d', 'depth', 'center_2d',
    'num_lidar_pts', 'difficulty', 'truncated', 'occluded', 'alpha',
    'score', 'index', 'group_id'
}
DB_KEYS = {
    'name', 'path', 'image_idx', 'gt_idx', 'box3d_lidar', 'num_points_in_gt',
    'difficulty', 'group_id'
}


@pytest.fixture(scope='module')
def kitti_root(tmp_path_factory) -> str:
    """3 train + 10 val frames, crowded so that the val split holds more
    than 40 moderate cars (KITTI's AP40 only reaches 100 with 40 GTs)."""
    root = str(tmp_path_factory.mktemp('kitti_synth'))
    create_kitti_dataset(
        root, seed=0, cfg=KittiSynthConfig(
            num_train=3, num_val=10, num_cars=(12, 16)))
    return root


def _load(path: str):
    with open(path, 'rb') as f:
        return pickle.load(f)


def _points(path: str) -> np.ndarray:
    data = np.fromfile(path, dtype=np.float32)
    assert data.size % 4 == 0
    return data.reshape(-1, 4)


def test_files(kitti_root):
    assert open(osp.join(kitti_root, 'ImageSets', 'train.txt')).read() == \
        '000000\n000001\n000002\n'
    val = open(osp.join(kitti_root, 'ImageSets', 'val.txt')).read().split()
    assert val == [f'{i:06d}' for i in range(3, 13)]
    for idx in range(13):
        name = f'{idx:06d}'
        full = _points(
            osp.join(kitti_root, 'training', 'velodyne', name + '.bin'))
        reduced = _points(
            osp.join(kitti_root, 'training', 'velodyne_reduced',
                     name + '.bin'))
        # a LiDAR scan: ~10-25k points all around, ground near z = -1.73
        assert 10000 < len(full) < 30000
        assert full[:, 0].min() < -20 and full[:, 0].max() > 20
        assert abs(np.median(full[:, 2]) + 1.73) < 1.0
        assert np.all((full[:, 3] >= 0) & (full[:, 3] < 1))
        assert np.linalg.norm(full[:, :3], axis=1).max() <= 81
        # velodyne_reduced = the points inside the CAM2 image
        calib_text = open(
            osp.join(kitti_root, 'training', 'calib', name + '.txt')).read()
        calib = parse_calib(calib_text)
        assert set(calib) == {
            'P0', 'P1', 'P2', 'P3', 'R0_rect', 'Tr_velo_to_cam',
            'Tr_imu_to_velo'
        }
        np.testing.assert_array_equal(reduced,
                                      full[in_image_mask(full, calib)])
        assert np.all(reduced[:, 0] > 0)
        lines = open(osp.join(kitti_root, 'training', 'label_2',
                              name + '.txt')).read().splitlines()
        for line in lines:
            fields = line.split(' ')
            assert len(fields) == 15
            assert fields[0] in CLASSES
            assert int(fields[2]) in (0, 1, 2)
        plane = open(osp.join(kitti_root, 'training', 'planes',
                              name + '.txt')).read().splitlines()
        assert plane[:3] == ['# Matrix', 'WIDTH 4', 'HEIGHT 1']
        normal = np.array([float(v) for v in plane[3].split()])
        # camera frame: the normal points up (-y), ground ~1.65 m below
        assert normal[1] < -0.99 and 1.4 < normal[3] < 1.9


def test_infos(kitti_root):
    for split, ids in (('train', range(3)), ('val', range(3, 13))):
        infos = _load(osp.join(kitti_root, f'kitti_infos_{split}.pkl'))
        categories = {k: i for i, k in enumerate(KITTI_CLASSES)}
        categories['DontCare'] = -1
        assert infos['metainfo'] == dict(
            categories=categories, dataset='kitti', info_version='1.1')
        assert [i['sample_idx'] for i in infos['data_list']] == list(ids)
        for info in infos['data_list']:
            assert set(info) == INFO_KEYS
            idx = info['sample_idx']
            images = info['images']
            assert set(images) == {'CAM0', 'CAM1', 'CAM2', 'CAM3', 'R0_rect'}
            cam2 = images['CAM2']
            assert cam2['img_path'] == f'{idx:06d}.png'
            assert (cam2['height'], cam2['width']) == IMAGE_SHAPE
            lidar2cam = np.array(cam2['lidar2cam'])
            np.testing.assert_allclose(
                lidar2cam,
                np.array(images['R0_rect']) @ np.array(
                    info['lidar_points']['Tr_velo_to_cam']),
                atol=1e-6)
            for cam in ('CAM0', 'CAM1', 'CAM2', 'CAM3'):
                np.testing.assert_allclose(
                    np.array(images[cam]['lidar2img']),
                    np.array(images[cam]['cam2img']) @ lidar2cam,
                    rtol=1e-6)
            assert info['lidar_points']['lidar_path'] == f'{idx:06d}.bin'
            assert info['lidar_points']['num_pts_feats'] == 4
            reduced = _points(
                osp.join(kitti_root, 'training', 'velodyne_reduced',
                         f'{idx:06d}.bin'))
            P2 = np.array(cam2['cam2img'])
            insts = info['instances']
            assert len(insts) > 0
            for k, inst in enumerate(insts):
                assert set(inst) == INSTANCE_KEYS
                assert inst['index'] == inst['group_id'] == k
                assert inst['bbox_label'] == inst['bbox_label_3d']
                assert KITTI_CLASSES[inst['bbox_label']] in CLASSES
                cam = np.array(inst['bbox_3d'])
                lbox = cam_to_lidar_boxes(cam.astype(np.float32),
                                          lidar2cam).astype(np.float32)
                # objects stand on the ground in front of the car
                assert 0 < lbox[0, 0] < 70 and -2.6 < lbox[0, 2] < -0.9
                n = points_in_lidar_boxes(reduced, lbox).sum()
                assert n == inst['num_lidar_pts'] > 0
                # the 2D box is the projection of the 3D box with P2
                uv, _ = project_to_image(cam_box_corners(cam)[0], P2)
                lo = np.maximum(uv.min(0), 0)
                hi = np.minimum(uv.max(0), IMAGE_SHAPE[::-1])
                np.testing.assert_allclose(
                    inst['bbox'], np.concatenate([lo, hi]), atol=0.011)
                alpha = cam[6] - np.arctan2(cam[0], cam[2])
                alpha = (alpha + np.pi) % (2 * np.pi) - np.pi
                assert abs(
                    (inst['alpha'] - alpha + np.pi) % (2 * np.pi) -
                    np.pi) < 0.011
                center, depth = project_to_image(
                    cam[:3] - [0, cam[4] / 2, 0], P2)
                np.testing.assert_allclose(inst['center_2d'], center,
                                           rtol=1e-5)
                assert abs(inst['depth'] - depth) < 1e-4
            height = np.array([i['bbox'][3] - i['bbox'][1] for i in insts])
            diff = kitti_difficulty(height,
                                    np.array([i['occluded'] for i in insts]),
                                    np.array([i['truncated'] for i in insts]))
            assert diff.tolist() == [i['difficulty'] for i in insts]
            np.testing.assert_allclose(info['plane'][:3],
                                       [0, -1, 0], atol=0.05)
    trainval = _load(osp.join(kitti_root, 'kitti_infos_trainval.pkl'))
    assert len(trainval['data_list']) == 13


def test_class_balance_and_difficulty(kitti_root):
    infos = _load(osp.join(kitti_root, 'kitti_infos_trainval.pkl'))
    insts = [i for info in infos['data_list'] for i in info['instances']]
    labels = np.array([i['bbox_label'] for i in insts])
    names = [KITTI_CLASSES[label] for label in labels]
    n_car = names.count('Car')
    assert names.count('Pedestrian') >= 2 and names.count('Cyclist') >= 2
    assert n_car > 3 * (names.count('Pedestrian') + names.count('Cyclist'))
    diff = np.array([i['difficulty'] for i in insts])
    assert np.mean((diff == 0) | (diff == 1)) > 0.5


def test_settings_file_counts_split_objects(kitti_root):
    """The settings file records what each split holds (issue 12: a
    study's validation set must say how many objects it can tell on)."""
    with open(osp.join(kitti_root, SETTINGS_FILE)) as f:
        settings = json.load(f)
    for split in ('train', 'val'):
        infos = _load(osp.join(kitti_root, f'kitti_infos_{split}.pkl'))
        counts = settings['splits'][split]
        assert counts['num_frames'] == len(infos['data_list'])
        expect = {}
        for info in infos['data_list']:
            for inst in info['instances']:
                name = KITTI_CLASSES[inst['bbox_label']]
                per = expect.setdefault(name, dict(total=0,
                                                   by_difficulty={}))
                per['total'] += 1
                d = str(inst['difficulty'])
                per['by_difficulty'][d] = per['by_difficulty'].get(d, 0) + 1
        assert counts['objects'] == expect
        assert expect  # the fixture's splits are not empty


def test_gt_database(kitti_root):
    db = _load(osp.join(kitti_root, 'kitti_dbinfos_train.pkl'))
    infos = _load(osp.join(kitti_root, 'kitti_infos_train.pkl'))
    n_inst = sum(len(i['instances']) for i in infos['data_list'])
    assert set(db) <= set(CLASSES) and set(CLASSES) <= set(db)
    entries = [e for v in db.values() for e in v]
    assert len(entries) == n_inst
    assert sorted(e['group_id'] for e in entries) == list(range(n_inst))
    for name, items in db.items():
        for e in items:
            assert set(e) == DB_KEYS and e['name'] == name
            assert e['path'] == osp.join(
                'kitti_gt_database', f"{e['image_idx']}_{name}_"
                f"{e['gt_idx']}.bin")
            box = e['box3d_lidar']
            assert box.dtype == np.float32 and box.shape == (7, )
            pts = _points(osp.join(kitti_root, e['path']))
            assert len(pts) == e['num_points_in_gt']
            inst = infos['data_list'][e['image_idx']]['instances'][
                e['gt_idx']]
            assert e['num_points_in_gt'] == inst['num_lidar_pts']
            assert e['difficulty'] == inst['difficulty']
            # points are stored relative to the box's bottom centre
            local = pts.copy()
            local[:, :3] += box[:3]
            assert points_in_lidar_boxes(local, box[None]).all()


def test_deterministic(tmp_path):
    cfg = KittiSynthConfig(num_train=2, num_val=1)
    create_kitti_dataset(str(tmp_path / 'a'), seed=3, cfg=cfg)
    create_kitti_dataset(str(tmp_path / 'b'), seed=3, cfg=cfg)
    create_kitti_dataset(str(tmp_path / 'c'), seed=4, cfg=cfg)
    files = []
    for dirpath, _, names in os.walk(tmp_path / 'a'):
        files += [
            osp.relpath(osp.join(dirpath, n), tmp_path / 'a') for n in names
        ]
    assert len(files) > 20
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / 'a', tmp_path / 'b', files, shallow=False)
    assert not mismatch and not errors
    velo = osp.join('training', 'velodyne', '000000.bin')
    assert not filecmp.cmp(tmp_path / 'a' / velo, tmp_path / 'c' / velo,
                           shallow=False)


def test_mmdet3d_kitti_dataset_pointpillars_pipeline(kitti_root):
    from mmdet3d.registry import DATASETS
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    root = kitti_root + '/'
    db_sampler = dict(
        data_root=root,
        info_path=root + 'kitti_dbinfos_train.pkl',
        rate=1.0,
        prepare=dict(
            filter_by_difficulty=[-1],
            filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
        classes=CLASSES,
        sample_groups=dict(Car=15, Pedestrian=15, Cyclist=15),
        points_loader=dict(
            type='LoadPointsFromFile',
            coord_type='LIDAR',
            load_dim=4,
            use_dim=4))
    pipeline = [
        dict(
            type='LoadPointsFromFile',
            coord_type='LIDAR',
            load_dim=4,
            use_dim=4),
        dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
        dict(type='ObjectSample', db_sampler=db_sampler,
             use_ground_plane=True),
        dict(type='RandomFlip3D', flip_ratio_bev_horizontal=0.5),
        dict(
            type='GlobalRotScaleTrans',
            rot_range=[-0.78539816, 0.78539816],
            scale_ratio_range=[0.95, 1.05]),
        dict(type='PointsRangeFilter', point_cloud_range=PCR),
        dict(type='ObjectRangeFilter', point_cloud_range=PCR),
        dict(type='PointShuffle'),
        dict(
            type='Pack3DDetInputs',
            keys=['points', 'gt_labels_3d', 'gt_bboxes_3d'])
    ]
    dataset = DATASETS.build(
        dict(
            type='KittiDataset',
            data_root=root,
            ann_file='kitti_infos_train.pkl',
            data_prefix=dict(pts='training/velodyne_reduced'),
            pipeline=pipeline,
            modality=dict(use_lidar=True, use_camera=False),
            metainfo=dict(classes=CLASSES),
            box_type_3d='LiDAR'))
    assert len(dataset) == 3
    # the boxes KittiDataset derives from the infos enclose their points
    ann = dataset.get_data_info(0)['ann_info']
    pts = _points(osp.join(root, 'training', 'velodyne_reduced',
                           '000000.bin'))
    counts = ann['gt_bboxes_3d'].points_in_boxes_all(
        torch.from_numpy(pts[:, :3])).sum(0)
    assert counts.tolist() == ann['num_lidar_pts'].tolist()
    sample = dataset[0]
    points = sample['inputs']['points']
    assert points.shape[1] == 4 and len(points) > len(pts) // 2
    gt = sample['data_samples'].gt_instances_3d
    labels = gt.labels_3d.tolist()
    assert set(labels) <= {0, 1, 2}
    # ObjectSample fills up to 15 objects per class from the database
    assert len(labels) > len(ann['gt_labels_3d'])


def test_kitti_metric_on_ground_truth(kitti_root):
    from mmdet3d.evaluation.metrics import KittiMetric
    from mmdet3d.structures import Box3DMode, CameraInstance3DBoxes
    ann_file = osp.join(kitti_root, 'kitti_infos_val.pkl')
    infos = _load(ann_file)
    moderate = [
        i for info in infos['data_list'] for i in info['instances']
        if i['bbox_label'] == KITTI_CLASSES.index('Car')
        and i['difficulty'] in (0, 1)
    ]
    assert len(moderate) > 40
    metric = KittiMetric(ann_file=ann_file, metric='bbox')
    metric.dataset_meta = dict(classes=CLASSES)
    samples = []
    for i, info in enumerate(infos['data_list']):
        insts = info['instances']
        cam = np.array([x['bbox_3d'] for x in insts], dtype=np.float32)
        boxes = CameraInstance3DBoxes(cam).convert_to(
            Box3DMode.LIDAR,
            np.linalg.inv(np.array(info['images']['CAM2']['lidar2cam'])))
        labels = torch.tensor([x['bbox_label_3d'] for x in insts])
        samples.append(
            dict(
                pred_instances_3d=dict(
                    bboxes_3d=boxes,
                    scores_3d=torch.ones(len(insts)),
                    labels_3d=labels),
                pred_instances=dict(),
                sample_idx=i))
    metric.process({}, samples)
    res = metric.compute_metrics(metric.results)
    # the ground truth is found exactly: 2D boxes, 3D boxes, difficulty
    # and the image / point cloud range filters of KittiMetric agree
    prefix = 'pred_instances_3d/KITTI/Car_'
    for kind in ('3D', 'BEV', '2D'):
        assert res[f'{prefix}{kind}_AP40_moderate_strict'] > 99
        assert res[f'{prefix}{kind}_AP40_hard_strict'] > 99
