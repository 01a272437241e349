"""Metric summaries of distill3d.benchmark.evaluate."""
import math

import pytest

from distill3d.benchmark.evaluate import segmentation_summary


def test_segmentation_summary_marks_hard_classes():
    raw = {'miou': 0.5, 'acc': 0.9, 'car': 0.8, 'bicycle': 0.1,
           'person': 0.3, 'truck': math.nan, 'road': 0.9}
    classes = ['car', 'bicycle', 'truck', 'person', 'road']
    out = segmentation_summary(raw, classes)
    assert out['mIoU'] == pytest.approx(50)
    # mean over the hard classes SegMetric scored (truck: no points)
    assert out['hard mIoU'] == pytest.approx(20)
    assert out['IoU bicycle (hard)'] == pytest.approx(10)
    assert out['IoU car'] == pytest.approx(80)
    assert 'IoU road' in out and 'IoU road (hard)' not in out


def test_segmentation_summary_without_hard_classes():
    out = segmentation_summary({'miou': 0.4, 'acc': 0.7, 'wall': 0.4},
                               ['wall'])
    assert 'hard mIoU' not in out and out['IoU wall'] == pytest.approx(40)
    with pytest.raises(KeyError, match='miou'):
        segmentation_summary({'acc': 0.7}, ['wall'])


def test_is_distill_config_for_every_distiller():
    from mmengine.config import Config

    from distill3d.benchmark.evaluate import is_distill_config
    plain = Config(dict(model=dict(type='Cylinder3D')))
    assert not is_distill_config(plain)
    assert is_distill_config(Config(dict(model=dict(type='Cylinder3D'),
                                         distiller=dict(type='Distiller3D'))))
    for kind in ('Distiller3D', 'AdversarialDistiller3D'):
        built = Config(dict(model=dict(type=kind, student=dict())))
        assert is_distill_config(built), kind
