"""projects/PointDistiller/tools/seed_study.py: aggregation over seeds."""
import argparse
import importlib.util
import os.path as osp

import pytest
from helpers import REPO


def _load():
    path = osp.join(REPO, 'projects', 'PointDistiller', 'tools',
                    'seed_study.py')
    spec = importlib.util.spec_from_file_location('seed_study', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(offset):
    names = ['teacher', 'student 4x', 'student 4x + FitNets',
             'student 4x + PointDistiller']
    return dict(models=[
        dict(name=n, params=1000 * (i + 1),
             metrics={'BEV mAP': 10.0 * i + offset, '3D mAP': float(i)})
        for i, n in enumerate(names)
    ])


def test_aggregate_mean_std_and_table():
    study_mod = _load()
    study = study_mod.aggregate({0: _result(0.), 1: _result(2.),
                                 2: _result(4.)})
    assert study['seeds'] == [0, 1, 2]
    # table order: student, +FitNets, +PointDistiller, teacher
    assert list(study['rows']) == list(study_mod.ROWS)
    bev = study['rows']['student 4x + PointDistiller']['metrics']['BEV mAP']
    assert bev['values'] == [30., 32., 34.]
    assert bev['mean'] == pytest.approx(32.)
    assert bev['std'] == pytest.approx(2.)  # sample std
    assert (bev['min'], bev['max']) == (30., 34.)
    args = argparse.Namespace(num_train=120, num_val=30, teacher_epochs=6,
                              student_epochs=6)
    text = study_mod.markdown(study, ['BEV mAP', '3D mAP'], args)
    assert '| student 4x + PointDistiller | 0.00 | 32.0 ± 2.0 (30.0-34.0)' \
        in text
    assert study_mod.data_root(0) == 'data/synthetic_kitti'
    assert study_mod.data_root(2) == 'data/synthetic_kitti_seed2'
