"""Resuming a distillation run through mmengine's Runner.

The FitNets PointPillars distillation trains 1 epoch (2 frames, 1 iteration,
no validation), then a second Runner resumes from ``epoch_1.pth`` to 2
epochs. A hook records the distiller and optimizer when training restarts:
they must equal the checkpoint exactly (student, adapter, teacher, and the
AdamW moments of the adapter), and training must go on to ``epoch_2.pth``.
"""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from distill3d.utils import load_weights_only
from helpers import cpu_runner_cfg

FITNETS = ('distill/'
           'fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py')


def _cfg(data_root, work_dir, max_epochs):
    cfg = cpu_runner_cfg(FITNETS, data_root, work_dir, max_epochs=max_epochs)
    cfg.teacher_ckpt = None
    # 2 of the 4 frames at batch 2: one iteration per epoch
    cfg.train_dataloader.dataset.dataset.indices = 2
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


def _clone(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj


class _SnapshotHook(Hook):
    """Copies the model and optimizer state when training (re)starts."""

    priority = 'HIGHEST'

    def before_train(self, runner) -> None:
        self.epoch, self.iter = runner.epoch, runner.iter
        self.state = _clone(runner.model.state_dict())
        self.optim = _clone(runner.optim_wrapper.state_dict())
        self.names = [n for n, _ in runner.model.named_parameters()]
        self.optimizer = runner.optim_wrapper.optimizer
        self.params = dict(runner.model.named_parameters())


def _equal_state(a, b):
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.slow
def test_resume_restores_distiller_and_optimizer(synthetic_kitti, tmp_path):
    from mmengine.registry import RUNNERS
    work = str(tmp_path / 'work')
    runner = RUNNERS.build(_cfg(synthetic_kitti, work, 1))
    runner.train()
    ckpt1 = osp.join(work, 'epoch_1.pth')
    # torch's weights-only loading (distill3d allow-lists mmengine's types)
    saved = load_weights_only(ckpt1)
    assert saved['meta']['epoch'] == 1 and saved['meta']['iter'] == 1
    groups = {k.split('.', 1)[0] for k in saved['state_dict']}
    assert {'student', 'teacher', 'adapters'} <= groups
    del runner

    cfg = _cfg(synthetic_kitti, work, 2)
    cfg.resume = True
    cfg.load_from = ckpt1
    runner = RUNNERS.build(cfg)
    snap = _SnapshotHook()
    runner.register_hook(snap)
    runner.train()

    # resumed where the checkpoint ended
    assert (snap.epoch, snap.iter) == (1, 1)
    _equal_state(snap.state, saved['state_dict'])
    adapter = [k for k in saved['state_dict'] if k.startswith('adapters.')]
    assert adapter, 'the FitNets distiller has a channel adapter'

    # optimizer: the same groups and per-parameter state, bit for bit
    state, optim = saved['optimizer'], snap.optim
    assert len(optim['param_groups']) == len(state['param_groups'])
    for g_saved, g_now in zip(state['param_groups'], optim['param_groups']):
        assert g_saved['params'] == g_now['params']
        for key in ('lr', 'betas', 'weight_decay', 'eps', 'initial_lr'):
            assert g_saved[key] == g_now[key], key
    assert set(optim['state']) == set(state['state'])
    for idx in state['state']:
        _equal_state(optim['state'][idx], state['state'][idx])

    # the adapter's AdamW moments specifically: the optimizer's parameter
    # order is model.parameters() (no paramwise_cfg), check the mapping
    params = state['param_groups'][0]['params']
    assert len(params) == len(snap.names)
    by_name = dict(zip(snap.names, params))
    for name in ('adapters.loss_kd_neck.proj.weight',
                 'adapters.loss_kd_neck.proj.bias'):
        idx = by_name[name]
        moments = state['state'][idx]
        assert float(moments['step']) == 1
        assert moments['exp_avg'].abs().sum() > 0
        live = snap.optimizer.state[snap.params[name]]
        assert live['exp_avg'].shape == snap.params[name].shape
        for key in ('exp_avg', 'exp_avg_sq'):
            assert torch.equal(moments[key], optim['state'][idx][key])
    # the frozen teacher is never stepped
    for name, idx in by_name.items():
        if name.startswith('teacher.'):
            assert idx not in state['state']

    # training went on: epoch 2, one more AdamW step, adapter moved
    assert runner.epoch == 2
    ckpt2 = load_weights_only(osp.join(work, 'epoch_2.pth'))
    assert ckpt2['meta']['epoch'] == 2 and ckpt2['meta']['iter'] == 2
    idx = by_name['adapters.loss_kd_neck.proj.weight']
    assert float(ckpt2['optimizer']['state'][idx]['step']) == 2
    key = 'adapters.loss_kd_neck.proj.weight'
    assert not torch.equal(ckpt2['state_dict'][key],
                           saved['state_dict'][key])
    for k, v in saved['state_dict'].items():
        if k.startswith('teacher.'):
            assert torch.equal(ckpt2['state_dict'][k], v), k
