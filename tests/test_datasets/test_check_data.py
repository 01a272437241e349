"""tools/check_data.py on data sets with planted faults, on the real sample
frames, and a corrupt point file met while loading naming the file."""
import os
import os.path as osp
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from cls_helpers import make_tiny_modelnet40
from helpers import REPO

from distill3d.datasets.check import check_data


def _cli(root, fmt, *extra):
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'check_data.py'), root,
         '--format', fmt, *extra],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=REPO))
    return proc.returncode, proc.stdout


def _truncate(path, nbytes=6):
    with open(path, 'r+b') as f:
        f.truncate(osp.getsize(path) - nbytes)


def _bad_paths(report):
    return sorted({osp.relpath(p.path, report.root) for p in report.problems})


def test_kitti_planted_faults(synthetic_kitti, tmp_path):
    root = str(tmp_path / 'kitti')
    shutil.copytree(synthetic_kitti, root)
    assert check_data(root, 'kitti').ok
    with open(osp.join(root, 'kitti_infos_train.pkl'), 'rb') as f:
        train = pickle.load(f)
    frames = [i['lidar_points']['lidar_path'] for i in train['data_list']]
    velo = osp.join(root, 'training', 'velodyne_reduced')
    _truncate(osp.join(velo, frames[0]))  # not a whole number of points
    os.remove(osp.join(velo, frames[1]))
    train['data_list'][2]['instances'][0]['bbox_label_3d'] = 42
    with open(osp.join(root, 'kitti_infos_train.pkl'), 'wb') as f:
        pickle.dump(train, f)
    with open(osp.join(root, 'kitti_dbinfos_train.pkl'), 'rb') as f:
        db = pickle.load(f)
    gt_file = next(iter(db.values()))[0]['path']
    _truncate(osp.join(root, gt_file), 16)  # one point short

    report = check_data(root, 'kitti')
    assert _bad_paths(report) == sorted([
        osp.join('training', 'velodyne_reduced', frames[0]),
        osp.join('training', 'velodyne_reduced', frames[1]),
        'kitti_infos_train.pkl', gt_file
    ])
    reasons = ' | '.join(str(p) for p in report.problems)
    assert 'not a whole number of points' in reasons
    assert 'missing' in reasons and 'box label 42' in reasons
    assert 'points, ' in reasons  # GT database count mismatch
    code, out = _cli(root, 'kitti')
    assert code == 1 and frames[0] in out and '4 problem(s)' in out


def test_semantickitti_planted_faults(synthetic_semantickitti, tmp_path):
    root = str(tmp_path / 'skitti')
    shutil.copytree(synthetic_semantickitti, root)
    assert check_data(root, 'semantickitti').ok
    with open(osp.join(root, 'semantickitti_infos_train.pkl'), 'rb') as f:
        infos = pickle.load(f)['data_list']
    labels = [osp.join(root, i['pts_semantic_mask_path']) for i in infos]
    _truncate(labels[0], 4)  # one label fewer than points
    raw = np.fromfile(labels[1], dtype=np.uint32)
    raw[0] = 77  # no such raw id in SemanticKITTI's labels_map
    raw.tofile(labels[1])
    scan = osp.join(root, infos[2]['lidar_points']['lidar_path'])
    _truncate(scan, 4)

    report = check_data(root, 'semantickitti')
    assert _bad_paths(report) == sorted(
        osp.relpath(p, root) for p in (labels[0], labels[1], scan))
    reasons = ' | '.join(str(p) for p in report.problems)
    assert 'labels for' in reasons and 'raw ids [77]' in reasons


def test_modelnet40_and_scanobjectnn_planted_faults(tmp_path):
    import h5py

    from distill3d.datasets.synthetic.scanobjectnn import (
        ScanObjectNNSynthConfig, create_scanobjectnn_dataset)
    mn = make_tiny_modelnet40(str(tmp_path / 'mn'), num_train=1, num_test=1,
                              num_points=16)
    assert check_data(mn, 'modelnet40').ok
    os.remove(osp.join(mn, 'chair', 'chair_0001.txt'))
    with open(osp.join(mn, 'airplane', 'airplane_0001.txt'), 'w') as f:
        f.write('0.1,0.2,0.3\nnot,a,number\n')
    report = check_data(mn, 'modelnet40')
    assert _bad_paths(report) == [
        osp.join('airplane', 'airplane_0001.txt'),
        osp.join('chair', 'chair_0001.txt')
    ]

    so = str(tmp_path / 'so')
    create_scanobjectnn_dataset(so, seed=0, cfg=ScanObjectNNSynthConfig(
        num_train=1, num_test=1))
    assert check_data(so, 'scanobjectnn').ok
    h5 = sorted(p for p in report_files(so) if p.endswith('.h5'))[0]
    with h5py.File(h5, 'r+') as f:
        f['label'][0] = 20
    report = check_data(so, 'scanobjectnn')
    assert _bad_paths(report) == [osp.relpath(h5, so)]
    assert 'labels [20] outside [0, 15)' in str(report.problems[0])


def report_files(root):
    return [osp.join(d, f) for d, _, fs in os.walk(root) for f in fs]


def test_real_sample_frames_pass(shared_samples):
    kitti = osp.join(shared_samples, 'tests', 'data', 'kitti')
    report = check_data(kitti, 'kitti', pts_prefix='training/velodyne')
    assert report.ok and report.checked['frames'] == 1, report.summary()
    skitti = osp.join(shared_samples, 'tests', 'data', 'semantickitti')
    report = check_data(skitti, 'semantickitti',
                        pts_prefix='sequences/00/velodyne',
                        mask_prefix='sequences/00/labels')
    assert report.ok and report.checked['points'] > 0, report.summary()


def test_corrupt_point_file_names_the_file(synthetic_kitti, tmp_path):
    """mmdet3d's KittiDataset + LoadPointsFromFile on a truncated scan."""
    from mmdet3d.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet3d')
    root = str(tmp_path / 'kitti')
    shutil.copytree(synthetic_kitti, root)
    dataset = DATASETS.build(dict(
        type='KittiDataset', data_root=root,
        ann_file='kitti_infos_val.pkl',
        data_prefix=dict(pts='training/velodyne_reduced'),
        pipeline=[dict(type='LoadPointsFromFile', coord_type='LIDAR',
                       load_dim=4, use_dim=4)],
        modality=dict(use_lidar=True, use_camera=False), test_mode=True))
    path = dataset.get_data_info(0)['lidar_points']['lidar_path']
    dataset[0]  # intact
    _truncate(path, 6)  # numpy: buffer size must be a multiple of ...
    with pytest.raises(ValueError, match=f'{path}.*') as info:
        dataset[0]
    assert 'LoadPointsFromFile' in str(info.value)
    _truncate(path, 2)  # whole float32s, not whole points: reshape fails
    with pytest.raises(ValueError, match=path):
        dataset[0]
