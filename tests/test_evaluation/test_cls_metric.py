"""ClsMetric: overall and mean class accuracy."""
import pytest
import torch


def _samples(preds, gts):
    return [dict(pred_label=torch.tensor([p]), gt_label=torch.tensor([g]))
            for p, g in zip(preds, gts)]


def test_overall_and_mean_class_accuracy():
    from distill3d.evaluation import ClsMetric
    metric = ClsMetric(per_class=True)
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    # class a: 3/4, b: 0/1, c: 1/1, d absent
    preds = [0, 0, 0, 1, 2, 2]
    gts = [0, 0, 0, 0, 1, 2]
    metric.process({}, _samples(preds[:3], gts[:3]))
    metric.process({}, _samples(preds[3:], gts[3:]))
    out = metric.evaluate(6)
    assert out['overall_acc'] == pytest.approx(100 * 4 / 6)
    assert out['mean_class_acc'] == pytest.approx(100 * (0.75 + 0 + 1) / 3)
    assert out['acc/a'] == pytest.approx(75)
    assert 'acc/d' not in out  # absent classes are left out of mAcc


def test_needs_gt_label():
    from distill3d.evaluation import ClsMetric
    metric = ClsMetric()
    with pytest.raises(KeyError, match='gt_label'):
        metric.process({}, [dict(pred_label=torch.tensor([0]))])
    from mmdet3d.registry import METRICS
    assert METRICS.get('ClsMetric') is ClsMetric
