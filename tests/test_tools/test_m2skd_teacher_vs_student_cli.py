"""projects/M2SKD/tools/teacher_vs_student.py on real Cylinder3D models:
the fused-input teacher against single-scan students, point by point."""
import json
import os.path as osp
import runpy
import sys

import numpy as np
import pytest
from mmengine.config import Config

from helpers import REPO, config_path, random_checkpoints

TOOL = osp.join(REPO, 'projects', 'M2SKD', 'tools', 'teacher_vs_student.py')
PLAIN = config_path('cylinder3d/cylinder3d_1xb2-cpu_synthetic-'
                    'semantickitti.py')
TEACHER = osp.join(REPO, 'projects', 'M2SKD', 'configs',
                   'cylinder3d-multiscan-ft_1xb2-cpu_synthetic-'
                   'semantickitti.py')


def _tool():
    return runpy.run_path(TOOL, run_name='teacher_vs_student')


def test_compare_shares_and_label_check():
    tool = _tool()
    classes = ['car', 'bicycle', 'road']
    labels = np.array([0, 0, 1, 1, 2, 3])  # 3: ignored
    teacher = [(np.array([0, 0, 1, 2, 2, 0]), labels)]
    student = [(np.array([0, 2, 2, 1, 2, 0]), labels)]
    rows = tool['compare'](teacher, student, classes, hard=('bicycle', ))
    assert rows['all']['points'] == 5
    assert rows['car'] == dict(points=2, teacher_acc=100.0,
                               student_acc=50.0, both_right=50.0,
                               teacher_only=50.0, student_only=0.0,
                               both_wrong=0.0, same_prediction=50.0,
                               confusions=[['road', 100.0]])
    assert rows['hard']['teacher_only'] == rows['bicycle']['teacher_only'] \
        == 50.0
    assert rows['bicycle']['student_only'] == 50.0
    other = [(np.array([0, 0, 1, 2, 2, 0]), labels[::-1].copy())]
    with pytest.raises(ValueError, match='scan 0'):
        tool['compare'](other, student, classes)


@pytest.fixture(scope='module')
def val_sequence(tmp_path_factory):
    """Sequence 08, 3 scans (moving ids): the later scans fuse earlier
    instances."""
    from distill3d.datasets.synthetic.semantickitti import (
        SemanticKittiSynthConfig, create_semantickitti_dataset)
    root = str(tmp_path_factory.mktemp('tvs_sk'))
    create_semantickitti_dataset(
        root, seed=2,
        cfg=SemanticKittiSynthConfig(train_seqs=(0, ), val_seqs=(8, ),
                                     frames_per_seq=3, moving_ids=True))
    return root


def test_teacher_vs_student_cli(val_sequence, tmp_path, monkeypatch):
    model = Config.fromfile(PLAIN).model
    ckpts = random_checkpoints((('a', model, 0), ('b', model, 1)), tmp_path)

    def run(teacher_cfg, teacher_ckpt, out):
        monkeypatch.setattr(sys, 'argv', [
            'teacher_vs_student.py', teacher_cfg, teacher_ckpt,
            '--student', 'a', PLAIN, ckpts['a'], '--data-root',
            val_sequence, '--max-scans', '2', '--work-dir',
            str(tmp_path / 'work'), '--out', str(out)
        ])
        runpy.run_path(TOOL, run_name='__main__')
        return json.loads(out.read_text())

    # the student against itself: nothing to teach, nothing to unlearn
    same = run(PLAIN, ckpts['a'], tmp_path / 'same.json')
    rows = same['students']['a']['classes']
    assert same['scans'] == 2 and rows['all']['points'] > 0
    assert rows['all']['same_prediction'] == 100.0
    assert rows['all']['teacher_only'] == rows['all']['student_only'] == 0
    # another network on fused scans: cropped to the scan's points, which
    # carry the student's labels (the tool checks it), so the points and
    # their classes are the same; the predictions differ
    fused = run(TEACHER, ckpts['b'], tmp_path / 'fused.json')
    frows = fused['students']['a']['classes']
    assert {k: v['points'] for k, v in frows.items()} == \
        {k: v['points'] for k, v in rows.items()}
    assert frows['hard']['points'] > 0
    assert frows['all']['same_prediction'] < 100.0
    for r in frows.values():
        assert sum(r[k] for k in ('both_right', 'teacher_only',
                                  'student_only', 'both_wrong')) == \
            pytest.approx(100.0 if r['points'] else 0.0)
        assert r['student_acc'] == pytest.approx(r['both_right'] +
                                                 r['student_only'])
