"""Cylinder3D and MinkUNet train and evaluate on CPU through mmengine's
Runner with mmdet3d's SegMetric, on synthetic SemanticKITTI data (mmcv sparse
convs run through distill3d's CPU rulebook, spconv through its Native
algorithm, the `minkunet` voxelization keeps CPU points on the CPU)."""
import math

import pytest
import torch
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from helpers import cpu_runner_cfg, val_metrics

CY = 'cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py'
MINK_KD = 'distill/logit-kd_minkunet18-w8_1xb2-cpu_synthetic-semantickitti.py'


@pytest.mark.slow
def test_cylinder3d_trains_and_evaluates(synthetic_semantickitti, tmp_path):
    cfg = cpu_runner_cfg(CY, synthetic_semantickitti, str(tmp_path),
                         train_frames=2)  # one step
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


@pytest.mark.slow
def test_minkunet_distills_and_evaluates(synthetic_semantickitti, tmp_path):
    """MinkUNet-18 (spconv backend) learns with a logit-KD term from a
    wider MinkUNet through the Runner and is scored by SegMetric."""
    cfg = cpu_runner_cfg(MINK_KD, synthetic_semantickitti, str(tmp_path),
                         train_frames=2)  # one step
    cfg.teacher_ckpt = None  # untrained teacher: the mechanics are tested
    runner = RUNNERS.build(cfg)
    runner.model.init_weights()
    student = {n: p.detach().clone()
               for n, p in runner.model.student.named_parameters()}
    teacher = {n: p.detach().clone()
               for n, p in runner.model.teacher.named_parameters()}
    runner.train()
    scalars = runner.message_hub.log_scalars
    for key in ('train/loss_sem_seg', 'train/loss_kd_logits'):
        value = scalars[key].current()
        assert math.isfinite(value) and value > 0, key
    moved = sum(not p.detach().equal(student[n])
                for n, p in runner.model.student.named_parameters())
    assert moved > 0.9 * len(student)
    for n, p in runner.model.teacher.named_parameters():
        assert p.detach().equal(teacher[n]), n
    # the voxel logits of both sides line up one to one
    s_rec = runner.model._student_recorders[
        'decode_head.conv_seg|None|None|None'].record
    t_rec = runner.model._teacher_recorders[
        'decode_head.conv_seg|None|None|None'].record
    assert s_rec.tensor.shape == t_rec.tensor.shape
    assert s_rec.tensor.shape[1] == 19
    metrics = val_metrics(runner)
    assert 0.0 <= metrics['miou'] <= 1.0 and 'car' in metrics
