"""tools/soft_targets.py on real PointNet++ teacher and 40x students."""
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
                  'logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-'
                  'modelnet40.py')


def test_soft_targets_cli(tmp_path, monkeypatch):
    data = make_tiny_modelnet40(str(tmp_path / 'mn40'), num_train=1,
                                num_test=1)
    cfg = Config.fromfile(CONFIG)
    teacher_cfg = Config.fromfile(cfg.teacher_cfg)
    ckpts = random_checkpoints((('teacher', teacher_cfg.model, 0),
                                ('a', cfg.model, 1), ('b', cfg.model, 2)),
                               tmp_path)
    # a distillation checkpoint (student.* keys) of student b
    state = torch.load(ckpts['b'])['state_dict']
    torch.save(dict(state_dict={f'student.{k}': v
                                for k, v in state.items()}),
               str(tmp_path / 'b_kd.pth'))
    out = tmp_path / 'soft.json'
    monkeypatch.setattr(sys, 'argv', [
        'soft_targets.py', CONFIG, '--teacher-ckpt', ckpts['teacher'],
        '--student', 'a', ckpts['a'], '--student', 'b', ckpts['b'],
        '--student', 'b_kd', str(tmp_path / 'b_kd.pth'),
        '--data-root', data, '--max-batches', '2', '--temperatures', '1',
        '4', '--work-dir', str(tmp_path / 'work'), '--json', str(out),
        '--cfg-options', 'train_dataloader.batch_size=8',
        'test_dataloader.batch_size=8'
    ])
    runpy.run_path(osp.join(REPO, 'tools', 'soft_targets.py'),
                   run_name='__main__')
    result = json.loads(out.read_text())
    assert set(result['splits']) == {'train', 'test'}
    train = result['splits']['train']
    assert train['teacher']['T=1']['num_samples'] == 16
    assert result['splits']['test']['teacher']['T=1']['num_samples'] == 16
    # 40 classes: entropy at most ln 40, flatter at T=4
    t1, t4 = train['teacher']['T=1'], train['teacher']['T=4']
    assert t4['max_entropy'] == t1['max_entropy'] == \
        pytest.approx(3.6889, abs=1e-3)
    assert t1['entropy'] < t4['entropy'] <= t4['max_entropy'] + 1e-9
    students = train['students']
    assert set(students) == {'a', 'b', 'b_kd'}
    # a distillation checkpoint loads the same student weights
    assert students['b'] == students['b_kd']
    for st in students.values():
        assert sum(st['agreement'][k] for k in (
            'both_right', 'teacher_only', 'student_only',
            'both_wrong')) == pytest.approx(100.0)
