"""A SECOND teacher distilled into a PointPillars student: dense BEV maps
of different grids are compared at the same metric places."""
import math
import os.path as osp

import pytest

from helpers import cpu_runner_cfg

CONFIG = ('distill/fitnets-logit-kd_second-to-pointpillars_1xb2-cpu_'
          'synthetic-kitti-3d-3class.py')


@pytest.mark.slow
def test_second_teacher_pointpillars_student(synthetic_kitti, tmp_path):
    from mmengine.registry import RUNNERS
    cfg = cpu_runner_cfg(CONFIG, synthetic_kitti, str(tmp_path))
    cfg.teacher_ckpt = None
    cfg.train_dataloader.dataset.dataset.indices = 2  # one iteration
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.pop('visualization', None)
    runner = RUNNERS.build(cfg)
    distiller = runner.model
    runner.train()
    scalars = runner.message_hub.log_scalars
    for key in ('train/loss_kd_neck', 'train/loss_kd_cls'):
        value = scalars[key].current()
        assert math.isfinite(value) and value > 0, (key, value)
    # the records carry their grids; the pair is resampled onto the
    # student's pixels (the student's square lies inside SECOND's range)
    (term, ) = [t for t in distiller._terms if t.name == 'loss_kd_neck']
    s_rec = distiller._student_recorders[term.student.key].record
    t_rec = distiller._teacher_recorders[term.teacher.key].record
    assert s_rec.bev_range == (0.0, -19.84, 39.68, 19.84)
    assert t_rec.bev_range == (0.0, -40.0, 70.4, 40.0)
    assert s_rec.tensor.shape[-2:] != t_rec.tensor.shape[-2:]
    student, teacher = distiller._pair(s_rec, t_rec)
    assert student.shape[-2:] == teacher.shape[-2:] == \
        s_rec.tensor.shape[-2:]
    assert teacher.shape[1] == t_rec.tensor.shape[1] == 512
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))
