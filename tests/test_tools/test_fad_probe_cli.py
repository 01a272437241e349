"""tools/fad_probe.py on a real FAD distiller (PointNet++ teacher, 40x
student, adapter and discriminator) saved as a training checkpoint."""
import json
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config

from cls_helpers import make_tiny_modelnet40
from helpers import REPO, random_checkpoints

CONFIG = osp.join(REPO, 'projects', 'FAD', 'configs',
                  'fad_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py')
_L = 'distiller.distill_losses.loss_kd_fad.'


@pytest.mark.parametrize('condition', ['none', 'teacher'])
def test_fad_probe_cli(tmp_path, monkeypatch, condition):
    from mmdet3d.registry import MODELS

    from distill3d.engine import load_analysis_cfg
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'), num_train=1,
                                num_test=1)
    teacher_cfg = Config.fromfile(Config.fromfile(CONFIG).teacher_cfg)
    teacher = random_checkpoints((('teacher', teacher_cfg.model, 0), ),
                                 tmp_path)['teacher']
    options = {_L + 'normalize': 'standardize', _L + 'adapter.act': False,
               _L + 'r1_gamma': 1.0}
    options.update({_L + 'condition': condition,
                    _L + 'teacher_context':
                    'head.fc_cls' if condition == 'teacher' else None})
    cfg = load_analysis_cfg(CONFIG, str(tmp_path / 'work'), data, options,
                            teacher)
    torch.manual_seed(0)
    distiller = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'fad.pth')
    torch.save(dict(state_dict=distiller.state_dict()), ckpt)
    out = tmp_path / 'probe.json'
    monkeypatch.setattr(sys, 'argv', [
        'fad_probe.py', CONFIG, ckpt, '--teacher-ckpt', teacher,
        '--data-root', data, '--max-batches', '2', '--work-dir',
        str(tmp_path / 'work'), '--json', str(out), '--cfg-options'
    ] + [f'{k}={v}' for k, v in options.items()] +
        ['test_dataloader.batch_size=8'])
    runpy.run_path(osp.join(REPO, 'tools', 'fad_probe.py'),
                   run_name='__main__')
    rep = json.loads(out.read_text())['report']
    assert rep['num_samples'] == 16
    assert 0.0 <= rep['accuracy'] <= 1.0
    assert rep['margin'] == pytest.approx(rep['real_logit'] -
                                          rep['fake_logit'])
    assert rep['chance_loss'] == pytest.approx(0.6931, abs=1e-4)
    assert rep['grad_norm'] > 0
    for key in ('cos_same_sample', 'cos_same_class', 'cos_any_sample',
                'grad_cos_all'):
        assert -1.0 <= rep[key] <= 1.0
