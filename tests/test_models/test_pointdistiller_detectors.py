"""PointDistiller on PointPillars and SECOND students: parameter counts of
the compressed students and training through the Runner with KittiMetric."""
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import RUNNERS

from distill3d.utils import set_data_root
from helpers import REPO, config_path, limit_train_frames, val_metrics

PD = osp.join(REPO, 'projects', 'PointDistiller', 'configs')
# params in millions (METHODS.md): teacher, then students by compression
PAPER = {
    'pointpillars': (4.8, {'4x': 1.3, '16x': 0.3}),
    'second': (5.3, {'4x': 1.4, '16x': 0.4}),
    'point_rcnn': (4.1, {'8x': 0.5, '16x': 0.3}),
}
STUDENT_PREFIX = dict(
    pointpillars='pointpillars_hv-secfpn',
    second='second_hv-secfpn',
    point_rcnn='point-rcnn')


def _params(path: str) -> int:
    from mmdet3d.registry import MODELS
    from mmdet3d.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(path).model)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('family', ['pointpillars', 'second', 'point_rcnn'])
def test_student_compression_matches_paper(family):
    teacher = _params(glob.glob(config_path(f'{family}/*synthetic*.py'))[0])
    assert abs(teacher / 1e6 - PAPER[family][0]) / PAPER[family][0] < 0.15
    for factor, paper in PAPER[family][1].items():
        name = STUDENT_PREFIX[family]
        student = _params(
            glob.glob(osp.join(PD, f'{name}-{factor}_8xb*kitti*.py'))[0])
        # within 15% of the paper's (rounded) student size and of the
        # nominal compression factor
        assert abs(student / 1e6 - paper) / paper < 0.15, (factor, student)
        nominal = int(factor[:-1])
        assert abs(teacher / student - nominal) / nominal < 0.15


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    'pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'pointdistiller-bev_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'pointdistiller_second-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'pointdistiller_point-rcnn-8x_1xb2-cpu_synthetic-kitti-3d-3class.py',
])
def test_pointdistiller_trains_and_evaluates(config, synthetic_kitti,
                                             tmp_path):
    cfg = Config.fromfile(osp.join(PD, config))
    set_data_root(cfg, synthetic_kitti)
    cfg.teacher_ckpt = None  # untrained teacher: the mechanics are tested
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    limit_train_frames(cfg, cfg.train_dataloader.batch_size)  # one step
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].num_workers = 0
        cfg[key].persistent_workers = False
    cfg.default_hooks.logger.interval = 1
    runner = RUNNERS.build(cfg)
    # without teacher_ckpt the teacher gets its init_cfg once, here
    runner.model.init_weights()
    adapters = {
        n: p.detach().clone()
        for n, p in runner.model.distill_losses.named_parameters()
    }
    teacher = {
        n: p.detach().clone()
        for n, p in runner.model.teacher.named_parameters()
    }
    runner.train()
    scalars = runner.message_hub.log_scalars
    kd = [k for k in scalars if k.startswith('train/loss_kd_pointdistiller')]
    assert kd, sorted(scalars)
    for key in kd:
        value = scalars[key].current()
        assert math.isfinite(value) and value > 0
    # the weight spread is logged next to the loss (issue 12): the kept
    # nodes that carry 90% of the weight, and the largest weight
    spread = [k[len('train/'):-len('.n90')] for k in scalars
              if k.startswith('train/kd_pointdistiller') and
              k.endswith('.n90')]
    assert spread and len(spread) == len(kd), sorted(scalars)
    num_nodes = {
        name[len('loss_'):]: loss.num_nodes
        for name, loss in runner.model.distill_losses.items()
    }
    for name in spread:
        n90 = scalars[f'train/{name}.n90'].current()
        assert 1 <= n90 <= num_nodes[name], (name, n90)
        assert scalars[f'train/{name}.w_max'].current() >= 1
    # both EdgeConv adapters were optimised, the teacher was not
    moved = {
        n for n, p in runner.model.distill_losses.named_parameters()
        if not p.detach().equal(adapters[n])
    }
    assert any('student_adapter' in n for n in moved)
    assert any('teacher_adapter' in n for n in moved)
    for n, p in runner.model.teacher.named_parameters():
        assert p.detach().equal(teacher[n]), n
    metrics = val_metrics(runner)
    assert any('Overall_3D_AP40_moderate' in k for k in metrics)


@pytest.mark.slow
def test_weight_zero_distillation_trains_as_the_plain_student(
        synthetic_kitti, tmp_path):
    """Same seed, same student: with every KD weight 0 a distillation run
    trains bit-identically to the plain student (same initial weights, same
    data, same updates), so a study's paired difference is the KD term's
    and nothing else's. The teacher and the adapters are built from a
    forked RNG (issue 12: before, 22 of 126 initial student tensors
    differed and a weight-0 run scored 3.4 BEV mAP below the plain student
    of its seed). One loader worker as in the study: its RNG is seeded
    apart from the main process."""
    from mmengine.runner import Runner

    def trained_student(path, distill):
        cfg = Config.fromfile(path)
        set_data_root(cfg, synthetic_kitti)
        cfg.work_dir = str(tmp_path / osp.basename(path))
        cfg.randomness = dict(seed=0)
        cfg.train_cfg.max_epochs = 1
        cfg.train_dataloader.dataset.dataset.indices = 4  # 2 iterations
        cfg.train_dataloader.num_workers = 1
        cfg.train_dataloader.persistent_workers = False
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.default_hooks.checkpoint = None
        cfg.default_hooks.pop('visualization', None)
        if distill:
            cfg.teacher_ckpt = None
            for term in cfg.distiller.distill_losses.values():
                term.loss_weight = 0.0
            runner = RUNNERS.build(cfg)
        else:
            runner = Runner.from_cfg(cfg)
        runner.train()
        model = runner.model
        return (model.student if distill else model).state_dict()

    plain = trained_student(
        osp.join(PD, 'pointpillars_hv-secfpn-4x_1xb2-cpu_synthetic-'
                 'kitti-3d-3class.py'), False)
    distilled = trained_student(
        osp.join(PD, 'pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-'
                 'kitti-3d-3class.py'), True)
    assert list(plain) == list(distilled)
    differ = [k for k in plain if not plain[k].equal(distilled[k])]
    assert not differ, f'{len(differ)} of {len(plain)} differ: {differ[:5]}'
