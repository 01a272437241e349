"""Synthetic ModelNet40 files in the real layout, read by
ModelNet40Dataset and the classification pipeline."""
import filecmp
import os
import os.path as osp

import numpy as np
import pytest
import torch

from cls_helpers import make_tiny_modelnet40

PIPELINE = [
    dict(type='LoadPointsFromTxt', use_dim=6),
    dict(type='ClsPointSample', num_points=64, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]


@pytest.fixture(autouse=True, scope='module')
def _scope():
    from mmdet3d.utils import register_all_modules
    register_all_modules()  # default scope mmdet3d for the pipelines


@pytest.fixture(scope='module')
def modelnet(tmp_path_factory):
    return make_tiny_modelnet40(str(tmp_path_factory.mktemp('mn40')))


def test_layout_and_txt_format(modelnet):
    from distill3d.datasets.synthetic.modelnet40 import MODELNET40_CLASSES
    names = open(osp.join(modelnet, 'modelnet40_shape_names.txt')).read()
    assert names.split() == list(MODELNET40_CLASSES)
    train = open(osp.join(modelnet, 'modelnet40_train.txt')).read().split()
    test = open(osp.join(modelnet, 'modelnet40_test.txt')).read().split()
    assert len(train) == 80 and len(test) == 40
    assert train[:2] == ['airplane_0001', 'airplane_0002']
    assert test[0] == 'airplane_0003'  # test ids follow the train ids
    path = osp.join(modelnet, 'night_stand', 'night_stand_0003.txt')
    lines = open(path).read().splitlines()
    assert len(lines) == 128
    cols = lines[0].split(',')
    assert len(cols) == 6 and all(len(c.split('.')[1]) == 6 for c in cols)
    data = np.loadtxt(path, delimiter=',')
    # points in the unit sphere (plus noise), unit normals
    assert np.linalg.norm(data[:, :3], axis=1).max() < 1.05
    np.testing.assert_allclose(
        np.linalg.norm(data[:, 3:], axis=1), 1, atol=1e-5)


def test_deterministic(modelnet, tmp_path):
    again = make_tiny_modelnet40(str(tmp_path / 'again'))
    for rel in ('modelnet40_train.txt', 'chair/chair_0002.txt',
                'xbox/xbox_0003.txt'):
        assert filecmp.cmp(osp.join(modelnet, rel), osp.join(again, rel),
                           shallow=False)


def test_dataset_reads_files(modelnet):
    from mmdet3d.registry import DATASETS
    train = DATASETS.build(
        dict(type='ModelNet40Dataset', data_root=modelnet,
             pipeline=PIPELINE))
    test = DATASETS.build(
        dict(type='ModelNet40Dataset', data_root=modelnet,
             ann_file='modelnet40_test.txt', pipeline=PIPELINE,
             test_mode=True))
    assert len(train) == 80 and len(test) == 40
    assert train.metainfo['classes'][8] == 'chair'
    info = test.get_data_info(2)
    assert info['shape_id'] == 'bed_0003' and info['gt_label'] == 2
    out = test[2]
    points = out['inputs']['points']
    assert points.shape == (64, 6) and points.dtype == torch.float32
    assert out['data_samples'].gt_label.tolist() == [2]
    assert out['data_samples'].metainfo['shape_id'] == 'bed_0003'
    # the first 64 lines of the file, normalised
    raw = np.loadtxt(osp.join(modelnet, 'bed', 'bed_0003.txt'),
                     delimiter=',', max_rows=64)
    xyz = raw[:, :3] - raw[:, :3].mean(0)
    xyz /= np.linalg.norm(xyz, axis=1).max()
    np.testing.assert_allclose(points[:, :3].numpy(), xyz, atol=1e-5)
    np.testing.assert_allclose(points[:, 3:].numpy(), raw[:, 3:], atol=1e-6)


def test_modelnet10_style_subset(modelnet, tmp_path):
    """Another names / split file pair selects a subset of the classes."""
    from mmdet3d.registry import DATASETS
    with open(osp.join(modelnet, 'sub_names.txt'), 'w') as f:
        f.write('chair\ntable\n')
    with open(osp.join(modelnet, 'sub_train.txt'), 'w') as f:
        f.write('table_0001\nchair_0002\n')
    ds = DATASETS.build(
        dict(type='ModelNet40Dataset', data_root=modelnet,
             ann_file='sub_train.txt', shape_names_file='sub_names.txt',
             pipeline=PIPELINE))
    assert ds.metainfo['classes'] == ('chair', 'table')
    assert [ds.get_data_info(i)['gt_label'] for i in range(2)] == [1, 0]
    with open(osp.join(modelnet, 'bad_train.txt'), 'w') as f:
        f.write('sofa_0001\n')
    with pytest.raises(ValueError, match='sofa'):
        DATASETS.build(
            dict(type='ModelNet40Dataset', data_root=modelnet,
                 ann_file='bad_train.txt', shape_names_file='sub_names.txt'))
    os.remove(osp.join(modelnet, 'bad_train.txt'))


def test_classes_differ_but_vary(tmp_path):
    """Shapes of one class vary; a nearest-class-mean rule on simple
    extents is far above chance yet not perfect (learnable, not trivial)."""
    from distill3d.datasets.synthetic.modelnet40 import MODELNET40_CLASSES
    from distill3d.datasets.synthetic.shapes import (make_prototypes,
                                                      sample_instance)
    protos = make_prototypes(MODELNET40_CLASSES, 0)

    def feat(pts):
        c = pts - pts.mean(0)
        ev = np.sort(np.linalg.eigvalsh(np.cov(c.T)))
        hist = np.histogram(np.linalg.norm(c, axis=1), 8, (0, 1.2))[0]
        return np.concatenate([ev, np.ptp(pts, 0), hist / len(pts)])

    feats = np.array([[
        feat(sample_instance(p, 512, np.random.default_rng([k, i]))[0])
        for i in range(6)] for k, p in enumerate(protos)])
    means = feats[:, :4].mean(1)
    test = feats[:, 4:].reshape(-1, feats.shape[-1])
    labels = np.repeat(np.arange(len(protos)), 2)
    dist = ((test[:, None] - means[None])**2).sum(-1)
    acc = (dist.argmin(1) == labels).mean()
    assert 0.25 < acc < 0.97, acc
