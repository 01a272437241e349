"""PointPillars, CenterPoint (pillars and voxels), SSN, 3DSSD, Part-A2 and
PV-RCNN train with a feature-KD term and evaluate on CPU through
distill3d's Runner with mmdet3d's KittiMetric, on synthetic KITTI data.
SECOND and PointRCNN do the same as the students (and teachers) of
``test_pointdistiller_detectors.py``: one Runner run per family keeps the
suite's time."""
import copy
import math
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from distill3d.engine import Distill3DRunner

from helpers import cpu_runner_cfg, val_metrics

DETECTORS = [
    'pointpillars/'
    'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'centerpoint/'
    'centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'centerpoint/'
    'centerpoint_voxel008_second_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'ssn/ssn_hv_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',
    '3dssd/3dssd_1xb2-cpu_synthetic-kitti-3d-car.py',
    'parta2/parta2_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',
    'pv_rcnn/pv_rcnn_1xb2-cpu_synthetic-kitti-3d-3class.py',
]
# test-time sizing (the mechanics are tested, not the published sizes):
# PV-RCNN with 256 keypoints instead of 2048 and 16 sampled RoIs per frame
# from 64 proposals instead of 128 from 512 (one training step 20 s instead
# of 48 s on one thread)
TEST_OPTIONS = {
    'pv_rcnn/pv_rcnn_1xb2-cpu_synthetic-kitti-3d-3class.py': {
        'model.points_encoder.num_keypoints': 256,
        'model.train_cfg.rpn_proposal.nms_post': 64,
        'model.train_cfg.rpn_proposal.max_num': 64,
        'model.train_cfg.rcnn.sampler.num': 16,
        'model.test_cfg.rpn.nms_post': 64,
        'model.test_cfg.rpn.max_num': 64,
    },
}

# the module each family's KD term records on both sides (FeatureMSELoss,
# teacher = the same model, randomly initialised: the mechanics of
# recording, pairing and backpropagating a KD term through each family):
# the BEV neck where there is one (``pts_neck`` in MVX detectors:
# CenterPoint, SSN); 3DSSD's first aggregation MLP (points sampled by
# D-FPS on coordinates only, hence the same nodes on both sides)
KD_MODULE = {
    '3dssd/3dssd_1xb2-cpu_synthetic-kitti-3d-car.py':
    'backbone.aggregation_mlps.0',
}


def _with_kd(cfg, config: str):
    """The family's config as a self-distillation config with FitNets."""
    module = KD_MODULE.get(config,
                           'pts_neck' if 'pts_neck' in cfg.model else 'neck')
    cfg.runner_type = 'Distill3DRunner'
    cfg.teacher_cfg = copy.deepcopy(cfg.model)  # test options included
    cfg.distiller = dict(
        type='Distiller3D',
        distill_losses=dict(
            loss_kd_feat=dict(
                type='FeatureMSELoss', loss_weight=1.0, student=module,
                teacher=module)))
    return cfg


def _losses_from_log(runner: Runner) -> dict:
    scalars = runner.message_hub.log_scalars
    return {
        k[len('train/'):]: v.current()
        for k, v in scalars.items() if k.startswith('train/loss')
    }


@pytest.mark.slow
@pytest.mark.parametrize('config', DETECTORS)
def test_detector_trains_and_evaluates(config, synthetic_kitti, tmp_path):
    # one training step (2 frames, batch 2): the step's mechanics are tested
    cfg = cpu_runner_cfg(config, synthetic_kitti, str(tmp_path),
                         train_frames=2)
    cfg.merge_from_dict(TEST_OPTIONS.get(config, {}))
    runner = Distill3DRunner.from_cfg(_with_kd(cfg, config))
    student = runner.model.student
    params_before = {
        n: p.detach().clone()
        for n, p in student.named_parameters()
    }
    runner.train()

    losses = _losses_from_log(runner)
    assert 'loss' in losses and math.isfinite(losses['loss'])
    assert losses['loss'] > 0
    kd = [v for k, v in losses.items() if k.startswith('loss_kd_feat')]
    assert kd and all(math.isfinite(v) and v > 0 for v in kd), losses
    changed = [
        n for n, p in student.named_parameters()
        if not torch.equal(p.detach(), params_before[n])
    ]
    assert len(changed) > 0.9 * len(params_before), 'optimizer did not step'
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_1.pth'))

    # Validation ran mmdet3d's KittiMetric on the val split.
    metrics = val_metrics(runner)
    # several classes: Overall_*; 3DSSD's Car-only config: Car_*
    keys = [k for k in metrics
            if k.endswith(('Overall_3D_AP40_moderate',
                           'Car_3D_AP40_moderate_strict'))]
    assert keys, f'KittiMetric keys missing: {sorted(metrics)[:10]}'
    for key in keys:
        assert 0.0 <= metrics[key] <= 100.0
