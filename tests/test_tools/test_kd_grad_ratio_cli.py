"""tools/kd_grad_ratio.py on a real PointNet++ logit-KD distiller."""
import json
import os.path as osp
import runpy
import subprocess
import sys

import pytest
from mmengine.config import Config

from cls_helpers import make_tiny_modelnet40
from helpers import REPO, random_checkpoints

CONFIG = osp.join(REPO, 'projects', 'FAD', 'configs',
                  'logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-'
                  'modelnet40.py')


def _flat(obj, prefix=''):
    """The numbers of a nested JSON object, by path."""
    if isinstance(obj, dict):
        return {k: v for key, value in obj.items()
                for k, v in _flat(value, f'{prefix}/{key}').items()}
    if isinstance(obj, list):
        return {k: v for i, value in enumerate(obj)
                for k, v in _flat(value, f'{prefix}/{i}').items()}
    return {prefix: obj} if isinstance(obj, (int, float)) else {}


def test_kd_grad_ratio_cli(tmp_path, monkeypatch):
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'), num_train=12,
                                num_test=1)
    cfg = Config.fromfile(CONFIG)
    ckpts = random_checkpoints(
        (('teacher', Config.fromfile(cfg.teacher_cfg).model, 0),
         ('student', cfg.model, 1)), tmp_path)
    out = tmp_path / 'ratio.json'
    monkeypatch.setattr(sys, 'argv', [
        'kd_grad_ratio.py', CONFIG, '--teacher-ckpt', ckpts['teacher'],
        '--student-ckpt', ckpts['student'], '--data-root', data,
        '--steps', '2', '--at', 'head.fc_cls', '--work-dir',
        str(tmp_path / 'work'), '--json', str(out), '--cfg-options',
        'train_dataloader.batch_size=8',
        # as in a config without a seed of its own (the M2SKD ones)
        'randomness.seed=None'
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'kd_grad_ratio.py'),
                   run_name='__main__')
    result = json.loads(out.read_text())
    # the same --seed draws the same batches (12 shapes a class, batches
    # of 8: the shuffle picks them) in a new process, whose global RNGs
    # start elsewhere: the same numbers again
    again = tmp_path / 'again.json'
    argv = sys.argv[1:]
    argv[argv.index('--json') + 1] = str(again)
    subprocess.run([sys.executable, osp.join(REPO, 'tools',
                                             'kd_grad_ratio.py')] + argv,
                   cwd=REPO, check=True, capture_output=True)
    # (the same batches; the float sums may differ with the threads)
    assert _flat(json.loads(again.read_text())) == pytest.approx(
        _flat(result), rel=1e-5)
    assert result['batches'] == 2
    assert result['task_norm'] > 0
    kd = result['loss_kd_cls']
    # the logit term reaches the student's parameters and is compared
    # with the cross-entropy's gradient on the same batches
    assert kd['norm'] > 0 and kd['ratio'] > 0
    assert -1.0 <= kd['cosine'] <= 1.0
    assert len(kd['per_batch']['ratio']) == 2
    # --at: per shape (a row of fc_cls's (B, 40) logits), the term and the
    # task pull on every row
    assert result['at'] == 'head.fc_cls'
    assert kd['rows'] == 1.0 and kd['row_grad'] > 0
    assert kd['task_row_grad'] > 0 and kd['row_norm'] > 0
