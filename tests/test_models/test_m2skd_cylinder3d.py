"""M2SKD on Cylinder3D through mmengine's Runner on synthetic SemanticKITTI:
the multi-scan fusion pipeline feeds the teacher, the student trains with
logit and instance-aware affinity KD (plus feature KD, switched on, with
the frozen teacher) and is evaluated with mmdet3d's SegMetric; both teacher
modes (frozen checkpoint, shared weights)."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from distill3d.apis import split_state
from distill3d.engine import Distill3DRunner
from helpers import REPO, cpu_runner_cfg, val_metrics
from mmdet3d.registry import MODELS

PROJECT = osp.join(REPO, 'projects', 'M2SKD', 'configs')
M2SKD = '../projects/M2SKD/configs/' \
    'm2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py'
M2SKD_FEATKD = '../projects/M2SKD/configs/' \
    'm2skd-featkd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py'
M2SKD_SHARED = '../projects/M2SKD/configs/' \
    'm2skd-shared_cylinder3d_1xb2-cpu_synthetic-semantickitti.py'
TEACHER = osp.join(
    PROJECT, 'cylinder3d-multiscan_1xb2-cpu_synthetic-semantickitti.py')
KD_TERMS = ('loss_kd_logits', 'loss_kd_affinity')


@pytest.fixture(scope='module')
def sequences(tmp_path_factory):
    """Sequence 00 (5 scans, moving ids) for training, 08 (2) for val."""
    from distill3d.datasets.synthetic.semantickitti import (
        SemanticKittiSynthConfig, create_semantickitti_dataset)
    root = str(tmp_path_factory.mktemp('m2skd_sk'))
    create_semantickitti_dataset(
        root, seed=1,
        cfg=SemanticKittiSynthConfig(train_seqs=(0, ), val_seqs=(8, ),
                                     frames_per_seq=5, moving_ids=True))
    # 2 validation scans keep the test short
    import pickle
    path = osp.join(root, 'semantickitti_infos_val.pkl')
    with open(path, 'rb') as f:
        infos = pickle.load(f)
    infos['data_list'] = infos['data_list'][:2]
    with open(path, 'wb') as f:
        pickle.dump(infos, f)
    return root


# the two scans with the most earlier frames (fused instances), one
# training step: train_dataloader.dataset[1] is scan 4, [0] scan 3
LATE_SCANS = [3, 4]


def _losses(runner):
    scalars = runner.message_hub.log_scalars
    return {k[len('train/'):]: v for k, v in scalars.items()
            if k.startswith('train/')}


@pytest.mark.slow
def test_m2skd_frozen_teacher_trains_and_evaluates(sequences, tmp_path):
    # a multi-scan teacher checkpoint (initial weights; training it is the
    # README's job) loaded through the config's teacher_ckpt
    teacher = MODELS.build(Config.fromfile(TEACHER).model)
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=teacher.state_dict()), ckpt)
    cfg = cpu_runner_cfg(M2SKD_FEATKD, sequences, str(tmp_path / 'work'),
                         train_frames=LATE_SCANS)
    cfg.teacher_ckpt = ckpt
    runner = Distill3DRunner.from_cfg(cfg)
    model = runner.model

    # the teacher's input holds the fused instances, the student's not
    data = runner.train_dataloader.dataset[1]  # scan 4
    n_student = len(data['inputs']['points'])
    n_teacher = len(data['inputs']['teacher_points'])
    assert n_teacher > n_student
    torch.testing.assert_close(data['inputs']['teacher_points'][:n_student],
                               data['inputs']['points'])

    t_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    s_before = {k: v.clone() for k, v in model.student.state_dict().items()}
    runner.train()
    losses = _losses(runner)
    for term in KD_TERMS + ('loss_kd_feature', ):
        assert math.isfinite(losses[term].current()), term
    # hard-class instances were there to distil
    assert losses['loss_kd_affinity'].data[0].max() > 0
    assert 'decode.loss_ce' in losses and 'decode.loss_lovasz' in losses
    for k, v in model.teacher.state_dict().items():
        torch.testing.assert_close(v, t_before[k], msg=k)
    changed = sum(not torch.equal(v, s_before[k])
                  for k, v in model.student.state_dict().items()
                  if v.is_floating_point())
    assert changed > 0

    metrics = val_metrics(runner)
    assert 0.0 <= metrics['miou'] <= 1.0
    assert 'bicycle' in metrics and 'motorcyclist' in metrics
    # the exported student holds the student only
    state, dropped = split_state(model.state_dict())
    assert set(state) == set(model.student.state_dict())
    assert set(dropped) == {'teacher', 'adapters'}, dropped


@pytest.mark.slow
def test_m2skd_shared_teacher_trains_and_evaluates(sequences, tmp_path):
    cfg = cpu_runner_cfg(M2SKD_SHARED, sequences, str(tmp_path / 'work'),
                         train_frames=LATE_SCANS)
    assert cfg.distiller.teacher_supervision == 'changed'  # released
    runner = Distill3DRunner.from_cfg(cfg)
    model = runner.model
    assert model.teacher is model.student
    # no second copy of the network in checkpoints
    assert not any(k.startswith('teacher.') for k in model.state_dict())
    model.train()
    _check_changed_voxel_supervision(runner)

    # 'all': the teacher forward is supervised on every fused voxel; its
    # loss alone moves the weights
    model.teacher_supervision = 'all'
    batch = next(iter(runner.train_dataloader))
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert 'teacher_decode.loss_lovasz' in losses
    t_loss = losses['teacher_decode.loss_ce']
    assert t_loss.requires_grad
    model.zero_grad()
    t_loss.backward()
    grads = [p.grad for p in model.student.parameters()]
    assert sum(g is not None and g.abs().sum() > 0 for g in grads) > \
        0.5 * len(grads)
    # ... weighted 0.2 (an untrained network's CE is about the same on
    # both inputs)
    ratio = t_loss.item() / losses['decode.loss_ce'].item()
    assert 0.1 < ratio < 0.4, ratio
    model.zero_grad()

    model.teacher_supervision = 'changed'
    runner.train()
    logged = _losses(runner)
    for term in KD_TERMS + ('teacher_decode.loss_ce', ):
        assert math.isfinite(logged[term].current()), term
    assert 'teacher_decode.loss_lovasz' not in logged
    metrics = val_metrics(runner)
    assert 0.0 <= metrics['miou'] <= 1.0
    with pytest.raises(ValueError, match='teacher_supervision'):
        MODELS.build(dict(cfg.distiller, student=cfg.model,
                          teacher_supervision='fused'))


def _check_changed_voxel_supervision(runner):
    """teacher_supervision='changed' (released code): the fused forward's
    cross-entropy only, over the voxels whose fused-input label differs
    from the single-scan label of the same voxel, averaged over those,
    times 0.2; checked against a computation from the voxel coordinates."""
    import torch.nn.functional as F

    from distill3d.models.distillers.distiller3d import _fit_point_labels
    model = runner.model
    # a batch whose scans have earlier frames (fused instances): 4 and 3
    dataset = runner.train_dataloader.dataset
    batch = runner.train_dataloader.collate_fn([dataset[1], dataset[0]])
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    assert 'teacher_decode.loss_lovasz' not in losses
    got = losses['teacher_decode.loss_ce']

    student = model.student
    s_inputs = {'points': data['inputs']['points']}
    t_inputs = {'points': data['inputs']['teacher_points']}
    s_data = student.data_preprocessor(
        dict(inputs=s_inputs,
             data_samples=[s.clone() for s in data['data_samples']]), True)
    t_samples = [s.clone() for s in data['data_samples']]
    _fit_point_labels(t_samples, t_inputs['points'], require=True)
    t_data = student.data_preprocessor(
        dict(inputs=t_inputs, data_samples=t_samples), True)

    def labels_by_coor(d):
        """Voxel coordinates (from each point's) and labels, by sample."""
        coors, labs = [], []
        p_coors = d['inputs']['voxels']['coors']
        for i, sample in enumerate(d['data_samples']):
            lab = sample.gt_pts_seg.voxel_semantic_mask.tolist()
            vox = [None] * len(lab)
            for c, v in zip(p_coors[p_coors[:, 0] == i].tolist(),
                            sample.point2voxel_map.tolist()):
                vox[v] = tuple(c)
            coors += vox
            labs += lab
        return coors, labs

    s_coors, s_labs = labels_by_coor(s_data)
    single = dict(zip(s_coors, s_labs))
    t_coors, t_labs = labels_by_coor(t_data)
    ignore = student.decode_head.ignore_index
    changed = torch.tensor([
        lab != ignore and single.get(c) != lab
        for c, lab in zip(t_coors, t_labs)
    ])
    assert 0 < changed.sum() < len(changed)
    logits = student.decode_head(student.extract_feat(t_data['inputs']))
    expected = 0.2 * F.cross_entropy(logits.features[changed],
                                     torch.tensor(t_labs)[changed])
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_shared_mode_rejects_a_teacher(sequences, tmp_path):
    cfg = cpu_runner_cfg(M2SKD_SHARED, sequences, str(tmp_path))
    cfg.distiller.teacher_mode = 'frozen'
    with pytest.raises(KeyError, match='teacher_cfg'):
        Distill3DRunner.from_cfg(cfg)
    cfg = cpu_runner_cfg(M2SKD, sequences, str(tmp_path))
    cfg.distiller.teacher_mode = 'shared'
    cfg.model = dict(cfg.distiller, student=cfg.model,
                     teacher=cfg.teacher_cfg)
    with pytest.raises(ValueError, match='leave teacher'):
        MODELS.build(cfg.model)
    with pytest.raises(ValueError, match='teacher_mode'):
        MODELS.build(dict(cfg.model, teacher_mode='twin'))


def test_identical_teacher_without_fusion_gives_zero_kd(sequences, tmp_path):
    """A teacher equal to the student (same weights, both in eval mode)
    fed the same points (fusion off: num_prev=0) gives every KD term
    exactly 0: logit (released form), affinity and feature KD (identity
    adapter)."""
    cfg = cpu_runner_cfg(M2SKD_FEATKD, sequences, str(tmp_path / 'work'))
    cfg.teacher_ckpt = None
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'MultiScanHardInstanceFusion':
            step['num_prev'] = 0
    runner = Distill3DRunner.from_cfg(cfg)
    model = runner.model
    model.teacher.load_state_dict(model.student.state_dict())
    model.train()
    # BN on running statistics, as the frozen teacher's (the student's
    # preprocessor stays in train mode: it makes the voxel labels)
    for module in model.student.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
    dataset = runner.train_dataloader.dataset
    batch = runner.train_dataloader.collate_fn([dataset[4], dataset[3]])
    data = model.data_preprocessor(batch, True)
    torch.testing.assert_close(data['inputs']['teacher_points'][0],
                               data['inputs']['points'][0])
    losses = model(**data, mode='loss')
    for term in KD_TERMS + ('loss_kd_feature', ):
        assert losses[term].item() == 0.0, (term, losses[term].item())
    assert losses['decode.loss_ce'].item() > 0


@pytest.mark.slow
def test_teacher_finetuned_from_baseline_validates_on_fused_scans(
        sequences, tmp_path):
    """The teacher protocol: the multi-scan teacher starts from a baseline
    checkpoint (load_from) and is validated on fused scans, scored on the
    scan's own points (ScanPointsSegMetric). (Training it is the multi-scan
    teacher's training, run by the other tests.)"""
    from mmengine.runner import Runner
    baseline = MODELS.build(Config.fromfile(TEACHER).model)
    ckpt = str(tmp_path / 'baseline.pth')
    torch.save(dict(state_dict=baseline.state_dict()), ckpt)
    cfg = cpu_runner_cfg(
        '../projects/M2SKD/configs/'
        'cylinder3d-multiscan-ft_1xb2-cpu_synthetic-semantickitti.py',
        sequences, str(tmp_path / 'work'))
    cfg.load_from = ckpt
    assert cfg.val_evaluator.type == 'ScanPointsSegMetric'
    runner = Runner.from_cfg(cfg)
    metrics = runner.val()  # loads load_from first
    assert 0.0 <= metrics['miou'] <= 1.0
    for k, v in baseline.state_dict().items():
        torch.testing.assert_close(runner.model.state_dict()[k], v, msg=k)
    # the validation input held fused points (frame 1 of sequence 08)
    sample = runner.val_dataloader.dataset[1]
    n_scan = sample['data_samples'].metainfo['num_scan_points']
    assert len(sample['inputs']['points']) > n_scan
