"""Classification and FAD through mmengine's Runner on CPU: a teacher
classifier trained and evaluated with ClsMetric, FAD trained with
tools/train.py unchanged, resumed (both optimizers restored), tested and
exported."""
import argparse
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from cls_helpers import (FAD_CPU, TEACHER_CPU, TINY_POINTS,
                         make_tiny_modelnet40, tiny_cls_cfg)
from helpers import REPO, val_metrics


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               MKL_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def _fad_options(teacher_ckpt, epochs):
    opts = [
        f'teacher_ckpt={teacher_ckpt}', f'train_cfg.max_epochs={epochs}',
        'train_cfg.val_interval=1', 'param_scheduler=[]',
        'model.backbone.num_points=(16,4)',
        'model.backbone.num_samples=(8,4)',
        'train_dataloader.batch_size=16', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=1'
    ]
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{key}.num_workers=0', f'{key}.persistent_workers=False',
                 f'{key}.dataset.pipeline.1.num_points={TINY_POINTS}']
    return ['--cfg-options'] + opts


@pytest.mark.slow
def test_classifier_and_fad_through_runner(tmp_path):
    from mmengine.config import Config, DictAction
    from mmengine.runner import Runner

    from distill3d.apis.export import export_student
    from distill3d.engine import Distill3DRunner
    from distill3d.utils import set_data_root
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'))

    # 1. the teacher classifier trains and is evaluated by ClsMetric
    cfg = tiny_cls_cfg(TEACHER_CPU, data, str(tmp_path / 'teacher'),
                       batch_size=16)
    cfg.experiment_name = 'fad_test_teacher'
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = val_metrics(runner)
    assert set(metrics) >= {'overall_acc', 'mean_class_acc'}
    assert 0 <= metrics['overall_acc'] <= 100
    teacher_ckpt = str(tmp_path / 'teacher' / 'epoch_1.pth')
    assert osp.isfile(teacher_ckpt)

    # 2. FAD with tools/train.py, unchanged, then resumed
    work = str(tmp_path / 'fad')
    train = [osp.join(REPO, 'tools/train.py'), FAD_CPU, '--work-dir', work,
             '--data-root', data]
    out = _run(train + _fad_options(teacher_ckpt, 1), cwd=tmp_path)
    assert f'teacher loaded from {teacher_ckpt}' in out
    log = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    for key in ('loss_kd_fad', 'disc_loss', 'disc_acc', 'student.lr',
                'discriminator.lr', 'overall_acc'):
        assert key in log, key
    ckpt1 = torch.load(osp.join(work, 'epoch_1.pth'))
    assert set(ckpt1['optimizer']) == {'student', 'discriminator'}
    out = _run(train + ['--resume', osp.join(work, 'epoch_1.pth')] +
               _fad_options(teacher_ckpt, 2), cwd=tmp_path)
    assert 'resumed epoch: 1' in out
    ckpt2 = torch.load(osp.join(work, 'epoch_2.pth'))
    for name in ('student', 'discriminator'):
        state1 = ckpt1['optimizer'][name]['state']
        state2 = ckpt2['optimizer'][name]['state']
        assert state1 and set(state1) == set(state2)
        # Adam continued from the saved moments of every parameter
        assert all(float(state2[k]['step']) == 2 * float(state1[k]['step'])
                   for k in state1)
    # the discriminator trained and is in the distiller's checkpoint
    disc = [k for k in ckpt2['state_dict'] if '.discriminator.' in k]
    assert disc and any(not torch.equal(ckpt1['state_dict'][k],
                                        ckpt2['state_dict'][k])
                        for k in disc)
    # the teacher did not change
    assert all(torch.equal(ckpt2['state_dict'][k], ckpt1['state_dict'][k])
               for k in ckpt1['state_dict'] if k.startswith('teacher.'))

    # 3. test the student (ClsMetric) and export it without the
    # discriminator or the adapter
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    opts = parser.parse_args(_fad_options(teacher_ckpt, 2)).cfg_options
    cfg = Config.fromfile(FAD_CPU)
    set_data_root(cfg, data)
    cfg.merge_from_dict(opts)
    cfg.work_dir = str(tmp_path / 'fad_test')
    cfg.load_from = osp.join(work, 'epoch_2.pth')
    cfg.experiment_name = 'fad_test_test'
    metrics = Distill3DRunner.from_cfg(cfg).test()
    assert 'overall_acc' in metrics and 'mean_class_acc' in metrics
    summary = export_student(FAD_CPU, osp.join(work, 'epoch_2.pth'),
                             str(tmp_path / 'student.pth'),
                             str(tmp_path / 'student.py'))
    assert summary['student_params'] == 36616
    assert {'teacher', 'adapters', 'distill_losses'} <= set(
        summary['dropped_key_groups'])
    state = torch.load(str(tmp_path / 'student.pth'))['state_dict']
    assert not any('discriminator' in k or 'adapters' in k for k in state)
    s_cfg = Config.fromfile(str(tmp_path / 'student.py'))
    assert s_cfg.model.type == 'PointClassifier'
    assert 'constructor' not in s_cfg.optim_wrapper  # the student's own
    assert s_cfg.optim_wrapper.optimizer.lr == 2e-3
