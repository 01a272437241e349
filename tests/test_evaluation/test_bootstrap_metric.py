"""BootstrapMetric: the wrapped metric unchanged, resamples computed by
mmdet3d's own evaluation (issue 12)."""
import json

import numpy as np
import pytest
import torch

import distill3d  # noqa: F401
from distill3d.evaluation import BootstrapMetric, resample_indices
from distill3d.evaluation.summary import detection_summary

CLASSES = ['Pedestrian', 'Cyclist', 'Car']


@pytest.fixture(scope='module')
def kitti_val(tmp_path_factory):
    """8 synthetic validation frames and noisy 'predictions' of them."""
    from mmdet3d.datasets import KittiDataset

    from distill3d.datasets.synthetic.kitti import (KittiSynthConfig,
                                                    create_kitti_dataset)
    root = str(tmp_path_factory.mktemp('boot_kitti'))
    create_kitti_dataset(root, seed=3,
                         cfg=KittiSynthConfig(num_train=1, num_val=8))
    ds = KittiDataset(
        data_root=root,
        ann_file='kitti_infos_val.pkl',
        data_prefix=dict(pts='training/velodyne_reduced'),
        pipeline=[],
        metainfo=dict(classes=CLASSES),
        test_mode=False)
    gen = np.random.default_rng(0)
    results = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        boxes = info['ann_info']['gt_bboxes_3d']
        labels = torch.as_tensor(info['ann_info']['gt_labels_3d'])
        keep = torch.as_tensor(gen.random(len(boxes)) < 0.8)
        t = boxes.tensor[keep].clone()
        # shift some boxes enough to miss the strict IoU, add noise
        t[:, :2] += torch.as_tensor(gen.normal(0, 0.25, (len(t), 2)),
                                    dtype=t.dtype)
        scores = torch.as_tensor(gen.uniform(0.2, 1.0, len(t)),
                                 dtype=torch.float32)
        results.append(
            dict(
                pred_instances_3d=dict(
                    bboxes_3d=type(boxes)(t),
                    scores_3d=scores,
                    labels_3d=labels[keep]),
                pred_instances=dict(),
                sample_idx=info['sample_idx']))
    return root, results


def _metric(root, **kwargs):
    metric = BootstrapMetric(
        metric=dict(type='KittiMetric',
                    ann_file=f'{root}/kitti_infos_val.pkl'),
        task='det', **kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    return metric


def test_full_value_is_kittimetrics_and_resamples_are_exact(kitti_val,
                                                           tmp_path):
    root, results = kitti_val
    out_file = str(tmp_path / 'boot.json')
    metric = _metric(root, num_samples=6, seed=1, out_file=out_file)
    out = metric.compute_metrics(results)
    plain = detection_summary(
        metric.inner.compute_metrics(results), CLASSES)
    for key in ('BEV mAP', '3D mAP'):
        assert out[f'bootstrap/{key}'] == pytest.approx(plain[key], abs=1e-3)
        assert out[f'bootstrap/{key}_std'] >= 0
        assert out[f'bootstrap/{key}_lo'] <= out[f'bootstrap/{key}_hi']
    assert 0 < plain['BEV mAP'] < 100  # predictions are neither all nor none
    # each resample equals KittiMetric run on the resampled frame list
    # (frames repeated), which recomputes every overlap
    indices = resample_indices(len(results), 6, seed=1)
    with open(out_file) as f:
        saved = json.load(f)
    assert saved['num_frames'] == len(results)
    for row, bev in zip(indices[:3], saved['values']['BEV mAP'][:3]):
        direct = detection_summary(
            metric.inner.compute_metrics([results[i] for i in row]),
            CLASSES)
        assert bev == pytest.approx(direct['BEV mAP'], abs=1e-3)
    # the identity resample gives the full-set value
    ident = metric.resampled(results, np.arange(len(results))[None],
                             ['BEV mAP'], CLASSES)
    assert ident['BEV mAP'][0] == pytest.approx(plain['BEV mAP'], abs=1e-3)
    assert len(set(np.round(saved['values']['BEV mAP'], 6))) > 1


def test_same_seed_same_resamples():
    a = resample_indices(50, 4, seed=7)
    assert np.array_equal(a, resample_indices(50, 4, seed=7))
    assert not np.array_equal(a, resample_indices(50, 4, seed=8))
    assert a.shape == (4, 50) and a.min() >= 0 and a.max() < 50


def test_generic_path_on_classification():
    metric = BootstrapMetric(
        metric=dict(type='ClsMetric'), task='cls', num_samples=20, seed=0)
    metric.dataset_meta = dict(classes=['a', 'b', 'c'])
    results = [(i % 3, i % 3 if i % 4 else (i + 1) % 3) for i in range(40)]
    out = metric.compute_metrics(results)
    correct = np.array([p == g for p, g in results])
    assert out['bootstrap/OA'] == pytest.approx(100 * correct.mean())
    idx = resample_indices(40, 20, seed=0)
    expected = np.std([100 * correct[r].mean() for r in idx], ddof=1)
    assert out['bootstrap/OA_std'] == pytest.approx(expected)
    assert out['overall_acc'] == pytest.approx(100 * correct.mean())


def test_bad_arguments_name_the_key():
    with pytest.raises(ValueError, match='task'):
        BootstrapMetric(metric=dict(type='ClsMetric'), task='detection')
    with pytest.raises(ValueError, match='num_samples'):
        BootstrapMetric(metric=dict(type='ClsMetric'), task='cls',
                        num_samples=1)
