"""DistillLossWeightHook and StopDistillHook on mock runners (as mmdet3d
tests its hooks), and one short Distill3DRunner run with both hooks."""
import math
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import MODEL_WRAPPERS, RUNNERS
from torch import nn

from distill3d.engine import DistillLossWeightHook, StopDistillHook
from helpers import cpu_runner_cfg
from mmdet3d.registry import HOOKS

PP_FITNETS = \
    'distill/fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'


def make_runner(model=None, it=0, epoch=0, max_iters=100, max_epochs=10,
                iters_per_epoch=10, hub='distill_hooks_test'):
    runner = MagicMock()
    runner.model = model if model is not None else SimpleNamespace(
        kd_weight_scale=1.0, distill_enabled=True)
    runner.iter = it
    runner.epoch = epoch
    runner.max_iters = max_iters
    runner.max_epochs = max_epochs
    runner.train_loop.dataloader = list(range(iters_per_epoch))
    runner.message_hub = MessageHub.get_instance(hub)
    return runner


def scales(hook, iters, **kwargs):
    """kd_weight_scale after before_train_iter at each iteration."""
    runner = make_runner(**kwargs)
    out = []
    for it in iters:
        runner.iter = it
        runner.epoch = it // len(runner.train_loop.dataloader)
        hook.before_train_iter(runner, batch_idx=it)
        out.append(runner.model.kd_weight_scale)
    return out


# ----------------------------------------------------------------------
# DistillLossWeightHook
# ----------------------------------------------------------------------
def test_weight_hook_is_registered():
    hook = HOOKS.build(dict(type='DistillLossWeightHook', warmup_iters=3))
    assert isinstance(hook, DistillLossWeightHook)
    assert HOOKS.get('StopDistillHook') is StopDistillHook


def test_default_is_constant_one():
    assert scales(DistillLossWeightHook(), [0, 5, 99]) == [1.0, 1.0, 1.0]


def test_linear_warmup():
    hook = DistillLossWeightHook(warmup_iters=4, warmup_ratio=0.2)
    got = scales(hook, [0, 1, 2, 3, 4, 50])
    assert got == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    got = scales(DistillLossWeightHook(warmup_iters=2), [0, 1, 2])
    assert got == pytest.approx([0.0, 0.5, 1.0])


def test_linear_decay():
    hook = DistillLossWeightHook(
        decay='linear', decay_begin=10, decay_end=20, min_scale=0.1)
    got = scales(hook, [0, 10, 15, 18, 20, 40])
    assert got == pytest.approx([1.0, 1.0, 0.55, 0.28, 0.1, 0.1])


def test_cosine_decay():
    hook = DistillLossWeightHook(
        decay='cosine', decay_begin=10, decay_end=20, min_scale=0.1)
    got = scales(hook, [10, 12, 15, 20, 25])
    cos = 0.5 * (1 + math.cos(math.pi * 0.2))
    assert got == pytest.approx([1.0, 0.1 + 0.9 * cos, 0.55, 0.1, 0.1])


def test_decay_ends_with_training_by_default():
    hook = DistillLossWeightHook(decay='linear')
    got = scales(hook, [0, 25, 50, 100], max_iters=100)
    assert got == pytest.approx([1.0, 0.75, 0.5, 0.0])


def test_warmup_then_decay_multiply():
    hook = DistillLossWeightHook(
        warmup_iters=10, warmup_ratio=0.0, decay='linear', decay_begin=0,
        decay_end=20)
    got = scales(hook, [5, 10], max_iters=20)
    assert got == pytest.approx([0.5 * 0.75, 0.5])


def test_decay_by_epoch():
    """Bounds in epochs, progress within an epoch from the iteration."""
    hook = DistillLossWeightHook(
        decay='linear', decay_begin=1, decay_end=3, by_epoch=True)
    got = scales(hook, [5, 10, 25, 30, 45], iters_per_epoch=10)
    # epoch + (iter % 10) / 10 = 0.5, 1.0, 2.5, 3.0, 4.5
    assert got == pytest.approx([1.0, 1.0, 0.25, 0.0, 0.0])
    hook = DistillLossWeightHook(decay='cosine', by_epoch=True)
    got = scales(hook, [0, 25, 50], iters_per_epoch=10, max_epochs=5)
    assert got == pytest.approx([1.0, 0.5, 0.0], abs=1e-7)


def test_weight_hook_writes_message_hub():
    hook = DistillLossWeightHook(warmup_iters=4, warmup_ratio=0.2)
    runner = make_runner(it=2, hub='distill_hooks_test_hub')
    hook.before_train_iter(runner, batch_idx=2)
    assert runner.model.kd_weight_scale == pytest.approx(0.6)
    buf = runner.message_hub.get_scalar('train/kd_weight_scale')
    assert buf.current() == pytest.approx(0.6)


def test_begin_iter_holds_the_scale_at_zero_then_warms_up():
    hook = DistillLossWeightHook(warmup_iters=4, begin_iter=10)
    got = scales(hook, [0, 9, 10, 12, 14, 50])
    assert got == pytest.approx([0.0, 0.0, 0.0, 0.5, 1.0, 1.0])
    # without a warm-up the term switches on at begin_iter
    got = scales(DistillLossWeightHook(begin_iter=3), [2, 3])
    assert got == [0.0, 1.0]
    with pytest.raises(ValueError, match='begin_iter'):
        DistillLossWeightHook(begin_iter=-1)


def test_terms_scale_only_those_terms():
    model = SimpleNamespace(
        kd_weight_scale=1.0, kd_term_scale={}, distill_enabled=True,
        distill_losses={'loss_kd_logits': None, 'loss_kd_affinity': None})
    hook = DistillLossWeightHook(warmup_iters=4, begin_iter=2,
                                 terms=['loss_kd_affinity'])
    runner = make_runner(model=model, it=4, hub='distill_hooks_test_terms')
    hook.before_train_iter(runner, batch_idx=4)
    assert model.kd_term_scale == {'loss_kd_affinity': pytest.approx(0.5)}
    assert model.kd_weight_scale == 1.0  # the other terms are untouched
    buf = runner.message_hub.get_scalar(
        'train/kd_weight_scale.loss_kd_affinity')
    assert buf.current() == pytest.approx(0.5)
    hook = DistillLossWeightHook(terms=['loss_kd_afinity'])
    with pytest.raises(KeyError, match="'loss_kd_afinity'.*loss_kd_logits"):
        hook.before_train_iter(runner, batch_idx=4)


def test_weight_hook_rejects_unknown_decay():
    with pytest.raises(ValueError, match='decay'):
        DistillLossWeightHook(decay='step')


class _Wrapper(nn.Module):
    """A model wrapper like mmengine's DDP wrappers (``.module``)."""

    def __init__(self, module):
        super().__init__()
        self.module = module


def test_hooks_unwrap_model_wrappers():
    name = '_DistillHooksTestWrapper'
    if name not in MODEL_WRAPPERS.module_dict:
        MODEL_WRAPPERS.register_module(name=name, module=_Wrapper)
    inner = nn.Module()
    inner.kd_weight_scale = 1.0
    inner.distill_enabled = True
    runner = make_runner(model=_Wrapper(inner), it=1)
    DistillLossWeightHook(warmup_iters=2).before_train_iter(runner, 1)
    assert inner.kd_weight_scale == pytest.approx(0.5)
    StopDistillHook(stop_iter=1).before_train_iter(runner, 1)
    assert inner.distill_enabled is False


# ----------------------------------------------------------------------
# StopDistillHook
# ----------------------------------------------------------------------
def test_stop_by_epoch():
    hook = StopDistillHook(stop_epoch=2)
    runner = make_runner()
    states = []
    for epoch in range(4):
        runner.epoch = epoch
        runner.iter = epoch * 10
        hook.before_train_epoch(runner)
        hook.before_train_iter(runner, batch_idx=0)
        states.append(runner.model.distill_enabled)
    assert states == [True, True, False, False]


def test_stop_by_iteration():
    hook = StopDistillHook(stop_iter=5)
    runner = make_runner()
    hook.before_train_epoch(runner)
    states = []
    for it in range(8):
        runner.iter = it
        hook.before_train_iter(runner, batch_idx=it)
        states.append(runner.model.distill_enabled)
    assert states == [True] * 5 + [False] * 3


@pytest.mark.parametrize('kwargs,epoch,it', [
    (dict(stop_epoch=2), 3, 35),
    (dict(stop_iter=5), 0, 7),
])
def test_stop_applies_when_resuming_past_it(kwargs, epoch, it):
    """A resumed run starts with a fresh model (distill_enabled=True) at an
    epoch/iteration past the stop: distillation is off from the start."""
    hook = StopDistillHook(**kwargs)
    runner = make_runner(epoch=epoch, it=it)
    assert runner.model.distill_enabled
    hook.before_train_epoch(runner)
    assert runner.model.distill_enabled is False
    hook.before_train_iter(runner, batch_idx=0)
    assert runner.model.distill_enabled is False


def test_stop_not_reached_keeps_distilling():
    hook = StopDistillHook(stop_epoch=5)
    runner = make_runner(epoch=4, it=49)
    hook.before_train_epoch(runner)
    hook.before_train_iter(runner, batch_idx=9)
    assert runner.model.distill_enabled is True


@pytest.mark.parametrize('kwargs', [dict(), dict(stop_epoch=1, stop_iter=1)])
def test_stop_hook_validates_arguments(kwargs):
    with pytest.raises(ValueError, match='exactly one of stop_epoch and '
                       'stop_iter'):
        StopDistillHook(**kwargs)


# ----------------------------------------------------------------------
# one short real run
# ----------------------------------------------------------------------
@pytest.mark.slow
def test_runner_with_hooks_distils_then_stops(synthetic_kitti, tmp_path):
    cfg = cpu_runner_cfg(PP_FITNETS, synthetic_kitti, str(tmp_path))
    cfg.teacher_ckpt = None
    cfg.custom_hooks = [
        dict(type='DistillLossWeightHook', warmup_iters=2),
        dict(type='StopDistillHook', stop_iter=1),
    ]
    runner = RUNNERS.build(cfg)
    assert type(runner).__name__ == 'Distill3DRunner'
    model = runner.model
    assert type(model).__name__ == 'Distiller3D'
    # without teacher_ckpt the teacher gets its init_cfg once, here (the
    # Runner's own init_weights() call then leaves it alone)
    model.init_weights()
    calls = []
    model.teacher.voxel_encoder.register_forward_pre_hook(
        lambda *args: calls.append(runner.iter))
    teacher_before = {
        k: v.clone()
        for k, v in model.teacher.state_dict().items()
    }
    student_before = {
        n: p.detach().clone()
        for n, p in model.student.named_parameters()
    }
    runner.train()  # 4 frames, batch 2: iterations 0 and 1, then val

    assert runner.iter == 2
    hub = runner.message_hub.log_scalars
    kd_values, _ = hub['train/loss_kd_neck'].data
    loss_values, _ = hub['train/loss'].data
    assert len(loss_values) == 2  # both iterations logged
    assert len(kd_values) == 1  # iteration 0 only: stopped afterwards
    # warm-up from 0: the KD term of iteration 0 is weighted by 0
    assert kd_values[0] == 0.0
    scale_values, _ = hub['train/kd_weight_scale'].data
    assert list(scale_values) == pytest.approx([0.0, 0.5])
    assert calls == [0]  # the teacher ran in iteration 0 only
    assert model.distill_enabled is False

    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), k
    changed = sum(not torch.equal(p.detach(), student_before[n])
                  for n, p in model.student.named_parameters())
    assert changed > 0.9 * len(student_before)

    # the end-of-epoch validation evaluated the student with KittiMetric
    val = {k: v for k, v in hub.items() if k.startswith('val/')}
    keys = [k for k in val if 'Overall_3D_AP40_moderate' in k]
    assert keys, sorted(val)[:10]
    for key in keys:
        assert 0.0 <= val[key].current() <= 100.0
