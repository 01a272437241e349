"""mmdet3d's own tools/train.py and tools/test.py (from the installed mmdet3d
package) on a distillation config: the config's ``custom_imports`` load
distill3d, its ``runner_type`` builds the Distill3DRunner."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from helpers import cpu_runner_cfg

FITNETS = ('distill/'
           'fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py')


def _mmdet3d_tool(name: str) -> str:
    import mmdet3d
    path = osp.join(osp.dirname(mmdet3d.__file__), '.mim', 'tools', name)
    if not osp.isfile(path):
        pytest.skip(f'the installed mmdet3d has no {path}')
    return path


def _run(args, cwd):
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)  # distill3d comes from the environment
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.mark.slow
def test_mmdet3d_train_and_test_a_distillation_config(synthetic_kitti,
                                                     tmp_path):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdet3d.registry import MODELS
    work = str(tmp_path / 'work')
    cfg = cpu_runner_cfg(FITNETS, synthetic_kitti, work, max_epochs=1)
    # a saved (initialised) teacher
    init_default_scope('mmdet3d')
    teacher = MODELS.build(Config.fromfile(cfg.teacher_cfg).model)
    cfg.teacher_ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), cfg.teacher_ckpt)
    cfg.train_dataloader.dataset.dataset.indices = 2  # one iteration
    # no validation while training: test.py evaluates
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.pop('visualization', None)
    assert 'distill3d' in cfg.custom_imports['imports']
    cfg_file = str(tmp_path / 'fitnets.py')
    cfg.dump(cfg_file)

    out = _run([_mmdet3d_tool('train.py'), cfg_file, '--work-dir', work],
               cwd=str(tmp_path))
    assert 'loss_kd_neck' in out, out[-3000:]
    ckpt = osp.join(work, 'epoch_1.pth')
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    assert any(k.startswith('student.') for k in state)
    out = _run([_mmdet3d_tool('test.py'), cfg_file, ckpt, '--work-dir',
                str(tmp_path / 'test')], cwd=str(tmp_path))
    assert 'Overall_3D_AP40_moderate' in out, out[-3000:]
