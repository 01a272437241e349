"""Cylinder3D trains and evaluates on CPU through mmengine's Runner with
mmdet3d's SegMetric, on synthetic SemanticKITTI data (mmcv sparse convs run
through distill3d's CPU rulebook)."""
import math

import pytest
import torch
from mmengine.runner import Runner

from helpers import cpu_runner_cfg, val_metrics

CY = 'cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py'


@pytest.mark.slow
def test_cylinder3d_trains_and_evaluates(synthetic_semantickitti, tmp_path):
    cfg = cpu_runner_cfg(CY, synthetic_semantickitti, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    before = {
        n: p.detach().clone()
        for n, p in runner.model.named_parameters()
    }
    runner.train()
    scalars = runner.message_hub.log_scalars
    loss = scalars['train/loss'].current()
    assert math.isfinite(loss) and loss > 0
    names = ' '.join(scalars.keys())
    assert 'loss_ce' in names and 'loss_lovasz' in names, names
    changed = sum(not torch.equal(p.detach(), before[n])
                  for n, p in runner.model.named_parameters())
    assert changed > 0.9 * len(before)

    metrics = val_metrics(runner)
    assert 'miou' in metrics and 0.0 <= metrics['miou'] <= 1.0
    assert 'car' in metrics and 'acc' in metrics
