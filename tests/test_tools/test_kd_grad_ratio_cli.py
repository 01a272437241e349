"""tools/kd_grad_ratio.py on a real PointNet++ logit-KD distiller."""
import json
import os.path as osp
import runpy
import sys

from mmengine.config import Config

from cls_helpers import make_tiny_modelnet40
from helpers import REPO, random_checkpoints

CONFIG = osp.join(REPO, 'projects', 'FAD', 'configs',
                  'logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-'
                  'modelnet40.py')


def test_kd_grad_ratio_cli(tmp_path, monkeypatch):
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'), num_train=1,
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
        'train_dataloader.batch_size=8'
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'kd_grad_ratio.py'),
                   run_name='__main__')
    result = json.loads(out.read_text())
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
