"""Distiller3D around real mmdet3d models (PointPillars, Cylinder3D): the
loss step, the frozen eval-mode teacher and its early stop, predict/tensor
modes, AMP, adapters, switches, build-time errors and degenerate frames.

The PointPillars example configs are used as they are, on a 64 x 64 pillar
grid (10.24 m x 10.24 m) with one block per backbone stage so that a step
takes about a second on CPU; student and teacher keep their different
widths (192-channel student neck, 384-channel teacher neck).
"""
import copy
import math
from collections import Counter
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from distill3d.engine import build_distill_cfg
from distill3d.models import Distiller3D
from distill3d.models.recorders import match_rows
from distill3d.utils import set_data_root
from helpers import config_path
from mmdet3d.registry import MODELS
from mmdet3d.structures import Det3DDataSample, LiDARInstance3DBoxes

PP_FITNETS = \
    'distill/fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
PP_LOGIT = \
    'distill/logit-kd_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
CY_FITNETS = \
    'distill/fitnets_cylinder3d-4ch_1xb2-cpu_synthetic-semantickitti.py'
CY_LOGIT = \
    'distill/logit-kd_cylinder3d-4ch_1xb2-cpu_synthetic-semantickitti.py'

PCR = [0, -5.12, -3, 10.24, 5.12, 1]
CAR = (5., 0., -1.7, 3.9, 1.6, 1.56, 0.3)


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
def _small_pointpillars(model):
    model = copy.deepcopy(model)
    model.data_preprocessor.voxel_layer.point_cloud_range = PCR
    model.data_preprocessor.voxel_layer.max_voxels = (2000, 2000)
    model.voxel_encoder.point_cloud_range = PCR
    model.middle_encoder.output_shape = [64, 64]
    model.backbone.layer_nums = [1, 1, 1]
    model.bbox_head.anchor_generator.ranges = [
        [PCR[0], PCR[1], z, PCR[3], PCR[4], z] for z in (-0.6, -0.6, -1.78)
    ]
    return model


def pp_cfg(config=PP_FITNETS, teacher_ckpt=None):
    """The distiller config of a PointPillars example config (small grid)."""
    cfg = Config.fromfile(config_path(config))
    cfg.teacher_ckpt = teacher_ckpt
    cfg.model = _small_pointpillars(cfg.model)
    cfg.teacher_cfg = _small_pointpillars(
        Config.fromfile(cfg.teacher_cfg).model)
    return build_distill_cfg(cfg).model


def build(model_cfg, seed=0):
    torch.manual_seed(seed)
    return MODELS.build(model_cfg)


def points(n=1500, seed=0, x=(0., 10.24)):
    g = torch.Generator().manual_seed(seed)
    low = torch.tensor([x[0], PCR[1], PCR[2], 0.])
    size = torch.tensor([x[1] - x[0], PCR[4] - PCR[1], PCR[5] - PCR[2], 1.])
    return torch.rand(n, 4, generator=g) * size + low


def sample(boxes=(CAR, ), labels=(2, )):
    s = Det3DDataSample()
    gt = InstanceData()
    gt.bboxes_3d = LiDARInstance3DBoxes(
        torch.tensor(boxes, dtype=torch.float32).reshape(-1, 7))
    gt.labels_3d = torch.tensor(labels, dtype=torch.long)
    s.gt_instances_3d = gt
    s.set_metainfo(dict(box_type_3d=LiDARInstance3DBoxes, sample_idx=0))
    return s


def batch(pts=None, samples=None):
    pts = [points()] if pts is None else pts
    samples = [sample() for _ in pts] if samples is None else samples
    return dict(inputs=dict(points=pts), data_samples=samples)


def total_loss(model, losses):
    loss, _ = model.parse_losses(losses)
    return loss


def count_calls(model, names):
    """Counters of the forward calls started on ``side.module`` names of a
    distiller (pre-hooks: the recorders' hooks may end a forward)."""
    calls = Counter()
    handles = []
    for name in names:
        side, module = name.split('.', 1)
        mod = getattr(model, side).get_submodule(module)
        handles.append(
            mod.register_forward_pre_hook(
                lambda *args, key=name: calls.update([key])))
    return calls, handles


def kd_terms(losses):
    return {k: v for k, v in losses.items() if k.startswith('loss_kd_')}


def assert_finite(losses):
    for key, value in losses.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            assert torch.isfinite(v).all(), (key, v)


def teacher_state(model):
    return {
        k: v.detach().clone()
        for k, v in model.teacher.state_dict().items()
    }


def perturbed_state(module, seed=1):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in module.state_dict().items():
        if v.is_floating_point():
            v = v + torch.randn(v.shape, generator=g)
        state[k] = v.clone()
    return state


# ----------------------------------------------------------------------
# one FitNets loss step, shared by several tests
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def fitnets():
    return build(pp_cfg(PP_FITNETS))


@pytest.fixture(scope='module')
def fitnets_step(fitnets):
    d = fitnets
    d.train()
    data = batch()
    # the bare student on the same batch (recorders are off outside loss())
    s_data = d.student.data_preprocessor(copy.deepcopy(data), True)
    with torch.no_grad():
        bare = d.student(**s_data, mode='loss')
    calls, handles = count_calls(d, [
        'teacher.voxel_encoder', 'teacher.neck', 'teacher.bbox_head',
        'student.neck', 'student.bbox_head'
    ])
    try:
        losses = d(**copy.deepcopy(data), mode='loss')
    finally:
        for h in handles:
            h.remove()
    kd_grads = torch.autograd.grad(
        losses['loss_kd_neck'],
        [p for p in d.student.neck.parameters()] +
        [p for p in d.student.bbox_head.parameters()],
        retain_graph=True, allow_unused=True)
    n_neck = len(list(d.student.neck.parameters()))
    d.zero_grad(set_to_none=True)
    total_loss(d, losses).backward()
    grads = {
        n: (p.grad.detach().clone() if p.grad is not None else None)
        for n, p in d.named_parameters()
    }
    d.zero_grad(set_to_none=True)
    return SimpleNamespace(
        data=data, losses=losses, bare=bare, calls=calls, grads=grads,
        kd_neck_grads=kd_grads[:n_neck], kd_head_grads=kd_grads[n_neck:])


def test_loss_step_has_student_losses_and_kd(fitnets_step):
    losses, bare = fitnets_step.losses, fitnets_step.bare
    assert set(losses) == set(bare) | {'loss_kd_neck'}
    assert set(bare) >= {'loss_cls', 'loss_bbox', 'loss_dir'}
    # the student's own losses are those of the bare student
    for key in bare:
        for a, b in zip(losses[key], bare[key]):
            assert torch.allclose(a.detach(), b, rtol=1e-5, atol=1e-6), key
    kd = losses['loss_kd_neck']
    assert kd.dim() == 0 and torch.isfinite(kd) and kd.item() > 0
    assert kd.requires_grad


def test_kd_term_is_adapted_student_vs_teacher_neck(fitnets, fitnets_step):
    """loss_kd_neck == weight * MSE(adapter(student neck), teacher neck)."""
    d = fitnets
    assert d.adapters['loss_kd_neck'].in_channels == 192
    assert d.adapters['loss_kd_neck'].out_channels == 384
    data = fitnets_step.data
    with torch.no_grad():
        t_in = d.teacher.data_preprocessor(copy.deepcopy(data), True)
        t_feat = d.teacher.extract_feat(t_in['inputs'])[0]
        s_in = d.student.data_preprocessor(copy.deepcopy(data), True)
        s_feat = d.student.extract_feat(s_in['inputs'])[0]
        expected = d.distill_losses['loss_kd_neck'].loss_weight * torch.mean(
            (d.adapters['loss_kd_neck'](s_feat) - t_feat)**2)
    assert s_feat.shape[1] == 192 and t_feat.shape[1] == 384
    assert fitnets_step.losses['loss_kd_neck'].item() == pytest.approx(
        expected.item(), rel=1e-4)


def test_gradients_reach_student_and_adapter_never_teacher(
        fitnets, fitnets_step):
    grads = fitnets_step.grads
    student = [n for n in grads if n.startswith('student.')]
    adapter = [n for n in grads if n.startswith('adapters.')]
    teacher = [n for n, _ in fitnets.teacher.named_parameters()]
    assert student and adapter and teacher
    assert all(grads[n] is not None for n in student)
    assert sum(float(grads[n].abs().sum() > 0) for n in student) > \
        0.9 * len(student)
    assert all(grads[n] is not None and grads[n].abs().sum() > 0
               for n in adapter)
    assert all(grads['teacher.' + n] is None for n in teacher)
    assert not any(p.requires_grad for p in fitnets.teacher.parameters())
    # the KD term alone reaches the student's neck, not its head
    assert all(g is not None for g in fitnets_step.kd_neck_grads)
    assert sum(g.abs().sum() for g in fitnets_step.kd_neck_grads) > 0
    assert all(g is None for g in fitnets_step.kd_head_grads)


def test_teacher_forward_stops_after_recorded_module(fitnets_step):
    calls = fitnets_step.calls
    assert calls['teacher.voxel_encoder'] == 1
    assert calls['teacher.neck'] == 1
    assert calls['teacher.bbox_head'] == 0  # never ran
    assert calls['student.neck'] == 1 and calls['student.bbox_head'] == 1


def test_kd_weight_scale_scales_kd_terms(fitnets, fitnets_step):
    base = fitnets_step.losses['loss_kd_neck'].item()
    try:
        fitnets.kd_weight_scale = 0.25
        scaled = fitnets.compute_distill_losses()  # records of the step
    finally:
        fitnets.kd_weight_scale = 1.0
    assert scaled['loss_kd_neck'].item() == pytest.approx(0.25 * base,
                                                          rel=1e-5)


def test_teacher_stays_in_eval_mode(fitnets):
    d = fitnets
    try:
        d.train()
        assert d.training and d.student.training
        assert not any(m.training for m in d.teacher.modules()
                       if m is not d.teacher.data_preprocessor and
                       m not in d.teacher.data_preprocessor.modules())
        assert d.teacher.data_preprocessor.training
        assert d.teacher.data_preprocessor.voxel_layer.training
        d.eval()
        assert not d.student.training
        assert not d.teacher.training
        assert not d.teacher.data_preprocessor.training
        d.train(True)
        assert not d.teacher.training and not d.teacher.backbone.training
        assert d.teacher.data_preprocessor.training
    finally:
        d.train()


def test_fresh_distiller_teacher_preprocessor_follows_mode():
    d = build(pp_cfg(PP_FITNETS))
    assert d.training and d.student.data_preprocessor.training
    assert not d.teacher.training and not d.teacher.neck.training
    assert d.teacher.data_preprocessor.training
    assert d.teacher.data_preprocessor.voxel_layer.training


def test_adapters_belong_to_the_distiller(fitnets):
    d = fitnets
    keys = set(d.state_dict())
    assert any(k.startswith('adapters.loss_kd_neck.') for k in keys)
    student_keys = list(d.student.state_dict())
    assert not any('adapter' in k for k in student_keys)
    student_params = {id(p) for p in d.student.parameters()}
    assert not any(id(p) in student_params for p in d.adapters.parameters())
    # the student's state dict loads into a plain student
    plain = build(pp_cfg(PP_FITNETS).student)
    plain.load_state_dict(d.student.state_dict(), strict=True)


@pytest.mark.parametrize('mode', ['tensor', 'predict'])
def test_predict_and_tensor_run_the_student_only(fitnets, mode):
    d = fitnets
    d.eval()
    try:
        data = batch()
        calls, handles = count_calls(d, ['teacher.voxel_encoder'])
        try:
            with torch.no_grad():
                out = d(**copy.deepcopy(data), mode=mode)
        finally:
            for h in handles:
                h.remove()
        assert calls['teacher.voxel_encoder'] == 0
        with torch.no_grad():
            ref = d.student(
                **d.student.data_preprocessor(copy.deepcopy(data), False),
                mode=mode)
    finally:
        d.train()
    if mode == 'tensor':
        flat = [t for level in out for t in level]
        flat_ref = [t for level in ref for t in level]
        assert len(flat) == len(flat_ref) == 3
        for a, b in zip(flat, flat_ref):
            assert torch.equal(a, b)
        assert flat[0].shape[1] == 18  # student's own conv_cls
    else:
        assert len(out) == len(ref) == 1
        a, b = out[0].pred_instances_3d, ref[0].pred_instances_3d
        assert torch.equal(a.scores_3d, b.scores_3d)
        assert torch.equal(a.bboxes_3d.tensor, b.bboxes_3d.tensor)


def test_val_step_predicts_with_student(fitnets):
    d = fitnets
    d.eval()
    try:
        calls, handles = count_calls(d, ['teacher.voxel_encoder',
                                         'student.bbox_head'])
        try:
            out = d.val_step(batch())
        finally:
            for h in handles:
                h.remove()
    finally:
        d.train()
    assert calls['teacher.voxel_encoder'] == 0
    assert calls['student.bbox_head'] == 1
    assert 'pred_instances_3d' in out[0]


def test_kd_terms_float32_under_bf16_autocast(fitnets, fitnets_step):
    d = fitnets
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = d(**batch(), mode='loss')
    kd = losses['loss_kd_neck']
    assert kd.dtype == torch.float32
    assert torch.isfinite(kd)
    # bf16 features, so only close to the float32 value
    assert kd.item() == pytest.approx(
        fitnets_step.losses['loss_kd_neck'].item(), rel=0.1)
    kd.backward()
    grad = d.adapters['loss_kd_neck'].proj.weight.grad
    assert grad is not None and torch.isfinite(grad).all()
    d.zero_grad(set_to_none=True)


def test_distill_disabled_skips_teacher_and_kd(fitnets):
    d = fitnets
    d.train()
    calls, handles = count_calls(d, ['teacher.voxel_encoder'])
    try:
        d.distill_enabled = False
        assert not d.distilling
        losses = d(**batch(), mode='loss')
    finally:
        d.distill_enabled = True
        for h in handles:
            h.remove()
    assert calls['teacher.voxel_encoder'] == 0
    assert not kd_terms(losses)
    assert set(losses) >= {'loss_cls', 'loss_bbox', 'loss_dir'}
    assert d.distilling


# ----------------------------------------------------------------------
# logit KD on PointPillars' anchor class map
# ----------------------------------------------------------------------
def test_logit_kd_step_on_anchor_logits():
    d = build(pp_cfg(PP_LOGIT))
    d.train()
    calls, handles = count_calls(d, ['teacher.bbox_head.conv_cls',
                                     'teacher.bbox_head.conv_reg'])
    try:
        losses = d(**batch(), mode='loss')
    finally:
        for h in handles:
            h.remove()
    assert calls['teacher.bbox_head.conv_cls'] == 1
    # Anchor3DHead runs conv_cls before conv_reg: stopped in between
    assert calls['teacher.bbox_head.conv_reg'] == 0
    kd = losses['loss_kd_cls']
    assert torch.isfinite(kd) and kd.item() > 0
    assert d.distill_losses['loss_kd_cls'].mode == 'sigmoid'
    assert len(d.adapters) == 0
    total_loss(d, losses).backward()
    conv_cls = d.student.bbox_head.conv_cls.weight.grad
    assert conv_cls is not None and conv_cls.abs().sum() > 0


# ----------------------------------------------------------------------
# build-time errors
# ----------------------------------------------------------------------
def test_unknown_module_name_lists_close_names():
    cfg = pp_cfg(PP_FITNETS)
    cfg.distill_losses.loss_kd_neck.teacher = 'nek'
    with pytest.raises(KeyError) as err:
        build(cfg)
    msg = str(err.value)
    assert "teacher has no module named 'nek'" in msg
    assert "'neck'" in msg.split('top-level')[0]


def test_channel_mismatch_without_adapter():
    cfg = pp_cfg(PP_FITNETS)
    cfg.distill_losses.loss_kd_neck.pop('adapter')
    with pytest.raises(ValueError) as err:
        build(cfg)
    msg = str(err.value)
    assert '192 channels' in msg and 'has 384' in msg
    assert 'ChannelAdapter' in msg


def test_logit_kd_class_count_mismatch():
    cfg = pp_cfg(PP_LOGIT)
    cfg.student.bbox_head.num_classes = 1
    with pytest.raises(ValueError) as err:
        build(cfg)
    msg = str(err.value)
    assert 'same classes' in msg
    assert 'student predicts 1' in msg and 'teacher 3' in msg


def test_loss_keys_must_start_with_loss_kd():
    cfg = pp_cfg(PP_FITNETS)
    cfg.distill_losses = dict(kd_neck=cfg.distill_losses.loss_kd_neck)
    with pytest.raises(ValueError, match="must start with 'loss_kd_'"):
        build(cfg)


def test_missing_teacher_checkpoint(tmp_path):
    path = str(tmp_path / 'nope' / 'epoch_20.pth')
    with pytest.raises(FileNotFoundError, match='epoch_20.pth'):
        build(pp_cfg(PP_FITNETS, teacher_ckpt=path))


def test_unreadable_teacher_checkpoint(tmp_path):
    path = tmp_path / 'garbage.pth'
    path.write_bytes(b'\x00\x01 not a checkpoint \xff' * 64)
    with pytest.raises(RuntimeError, match='could not be read'):
        build(pp_cfg(PP_FITNETS, teacher_ckpt=str(path)))


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory):
    """Checkpoints: the teacher's own weights (perturbed, so they differ
    from any initialisation), the 4x student's and a key-mangled one."""
    root = tmp_path_factory.mktemp('teacher_ckpts')
    cfg = pp_cfg(PP_FITNETS)
    teacher = build(cfg.teacher, seed=3)
    own = perturbed_state(teacher)
    torch.save(dict(meta=dict(epoch=20), state_dict=own),
               str(root / 'teacher.pth'))
    torch.save(
        dict(state_dict={'module.' + k: v for k, v in own.items()}),
        str(root / 'ddp_teacher.pth'))
    torch.save(own, str(root / 'bare_teacher.pth'))
    student = build(cfg.student, seed=4)
    torch.save(dict(state_dict=student.state_dict()),
               str(root / 'student.pth'))
    dropped = [k for k in sorted(own) if own[k].is_floating_point()][:3]
    mangled = {k: v for k, v in own.items() if k not in dropped}
    mangled['extra.weight'] = torch.zeros(2)
    mangled['other_head.bias'] = torch.zeros(2)
    torch.save(dict(state_dict=mangled), str(root / 'mangled.pth'))
    return SimpleNamespace(root=root, own=own, dropped=dropped,
                           student=student.state_dict())


@pytest.mark.parametrize('name', ['teacher.pth', 'ddp_teacher.pth',
                                  'bare_teacher.pth'])
def test_teacher_checkpoint_loads_exactly(teacher_ckpts, name):
    d = build(pp_cfg(PP_FITNETS, teacher_ckpt=str(teacher_ckpts.root / name)))
    state = teacher_state(d)
    assert set(state) == set(teacher_ckpts.own)
    for k, v in teacher_ckpts.own.items():
        assert torch.equal(state[k], v), k
    # mmengine's Runner calls init_weights(): the teacher must keep them
    d.init_weights()
    state = teacher_state(d)
    for k, v in teacher_ckpts.own.items():
        assert torch.equal(state[k], v), k
    assert d.teacher_ckpt.endswith(name)
    assert not any(p.requires_grad for p in d.teacher.parameters())


def test_init_weights_does_reinitialise_an_unloaded_teacher():
    """Control for the test above: init_weights() would change weights."""
    d = build(pp_cfg(PP_FITNETS))
    before = teacher_state(d)
    d.init_weights()
    after = teacher_state(d)
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_checkpoint_of_another_width_is_refused(teacher_ckpts):
    path = str(teacher_ckpts.root / 'student.pth')
    with pytest.raises(ValueError) as err:
        build(pp_cfg(PP_FITNETS, teacher_ckpt=path))
    msg = str(err.value)
    n_shape = sum(
        1 for k, v in teacher_ckpts.student.items()
        if tuple(v.shape) != tuple(teacher_ckpts.own[k].shape))
    assert n_shape > 0
    assert '0 missing keys' in msg and '0 unexpected keys' in msg
    assert f'{n_shape} shape mismatches' in msg
    assert 'teacher_ckpt_strict=False' in msg


def test_checkpoint_with_wrong_keys_is_refused(teacher_ckpts):
    path = str(teacher_ckpts.root / 'mangled.pth')
    with pytest.raises(ValueError) as err:
        build(pp_cfg(PP_FITNETS, teacher_ckpt=path))
    msg = str(err.value)
    assert '3 missing keys' in msg and '2 unexpected keys' in msg
    assert teacher_ckpts.dropped[0] in msg and 'extra.weight' in msg


def test_non_strict_loads_the_matching_keys(teacher_ckpts):
    cfg = pp_cfg(PP_FITNETS,
                 teacher_ckpt=str(teacher_ckpts.root / 'mangled.pth'))
    cfg.teacher_ckpt_strict = False
    unloaded = copy.deepcopy(cfg)
    unloaded.teacher_ckpt = None
    init = teacher_state(build(unloaded))  # same seed: same initialisation
    d = build(cfg)
    state = teacher_state(d)
    for k, v in teacher_ckpts.own.items():
        if k in teacher_ckpts.dropped:
            assert not torch.equal(init[k], v)
            assert torch.equal(state[k], init[k]), k  # not in the ckpt
        else:
            assert torch.equal(state[k], v), k
    assert 'extra.weight' not in state


def test_non_strict_skips_keys_of_another_shape(teacher_ckpts):
    cfg = pp_cfg(PP_FITNETS,
                 teacher_ckpt=str(teacher_ckpts.root / 'student.pth'))
    cfg.teacher_ckpt_strict = False
    d = build(cfg)
    state = teacher_state(d)
    same = [k for k, v in teacher_ckpts.student.items()
            if v.shape == state[k].shape]
    other = [k for k in state if k not in same]
    assert same and other
    for k in same:
        assert torch.equal(state[k], teacher_ckpts.student[k]), k
    # the teacher keeps its own widths
    assert d.teacher.neck.out_channels == [128, 128, 128]


# ----------------------------------------------------------------------
# degenerate frames
# ----------------------------------------------------------------------
def test_frame_without_objects_trains(fitnets):
    d = fitnets
    d.train()
    losses = d(**batch(samples=[sample(boxes=(), labels=())]), mode='loss')
    assert_finite(losses)
    assert 'loss_kd_neck' in losses
    loss = total_loss(d, losses)
    assert torch.isfinite(loss)
    loss.backward()
    for p in d.adapters.parameters():
        assert torch.isfinite(p.grad).all()
    d.zero_grad(set_to_none=True)


def test_empty_point_cloud_in_a_batch_trains(fitnets):
    """A 0-point frame next to a normal one (mmdet3d's VoxelNet infers the
    batch size from the last voxel's batch index, so the empty frame must
    not be the last one: mmdet3d's limitation, not distill3d's)."""
    d = fitnets
    d.train()
    data = batch(pts=[torch.zeros(0, 4), points()],
                 samples=[sample(boxes=(), labels=()), sample()])
    losses = d(**data, mode='loss')
    assert_finite(losses)
    kd = losses['loss_kd_neck']
    assert kd.item() > 0
    total_loss(d, losses).backward()
    for p in d.adapters.parameters():
        assert torch.isfinite(p.grad).all()
    d.zero_grad(set_to_none=True)


def test_no_shared_voxels_gives_zero_kd():
    """FitNets on pillar features, the teacher reading its own points
    (teacher_inputs) in another half of the scene: no pillar is shared, so
    the voxel records match no row and the KD term is 0, not NaN."""
    cfg = pp_cfg(PP_FITNETS)
    cfg.distill_losses = dict(
        loss_kd_pillars=dict(
            type='FeatureMSELoss',
            student='voxel_encoder',
            teacher='voxel_encoder',
            adapter=dict(type='ChannelAdapter')))
    cfg.teacher_inputs = dict(points='teacher_points')
    d = build(cfg)
    d.train()
    assert d.adapters['loss_kd_pillars'].in_channels == 32
    assert d.adapters['loss_kd_pillars'].out_channels == 64
    data = batch(pts=[points(x=(0., 5.))])
    data['inputs']['teacher_points'] = [points(seed=1, x=(5.2, 10.24))]
    losses = d(**data, mode='loss')
    s_rec = d._student_recorders['voxel_encoder|None|None|None'].record
    t_rec = d._teacher_recorders['voxel_encoder|None|None|None'].record
    assert s_rec.kind == t_rec.kind == 'voxel'
    assert len(s_rec.coors) > 0 and len(t_rec.coors) > 0
    assert len(match_rows(s_rec.coors, t_rec.coors)[0]) == 0
    kd = losses['loss_kd_pillars']
    assert torch.isfinite(kd) and kd.item() == 0.
    assert_finite(losses)
    total_loss(d, losses).backward()

    # same points on both sides: every pillar is shared, KD > 0
    data['inputs']['teacher_points'] = data['inputs']['points']
    losses = d(**data, mode='loss')
    assert losses['loss_kd_pillars'].item() > 0


def test_teacher_inputs_must_be_in_the_batch():
    cfg = pp_cfg(PP_FITNETS)
    cfg.teacher_inputs = dict(points='teacher_points')
    d = build(cfg)
    with pytest.raises(KeyError, match='teacher_points'):
        d(**batch(), mode='loss')


# ----------------------------------------------------------------------
# Cylinder3D (sparse records matched by voxel index)
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def semantickitti_frame(synthetic_semantickitti):
    """One training frame through the config's train dataloader (batch 1),
    thinned to 2000 points to keep the step short."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    cfg = Config.fromfile(config_path(CY_FITNETS))
    set_data_root(cfg, synthetic_semantickitti)
    init_default_scope('mmdet3d')
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.batch_size = 1
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    data = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    pts = data['inputs']['points'][0]
    mask = data['data_samples'][0].gt_pts_seg.pts_semantic_mask
    assert len(pts) == len(mask) > 4000
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(pts), generator=g)
    keep, other = perm[:2000], perm[2000:3500]
    data['data_samples'][0].gt_pts_seg.pts_semantic_mask = mask[keep]
    return SimpleNamespace(
        data=dict(inputs=dict(points=[pts[keep]]),
                  data_samples=data['data_samples']),
        other_points=pts[other])


def _cylinder_cfg(config, synthetic_semantickitti):
    cfg = Config.fromfile(config_path(config))
    set_data_root(cfg, synthetic_semantickitti)
    cfg.teacher_ckpt = None
    return build_distill_cfg(cfg).model


def test_cylinder3d_fitnets_sparse_records_matched_by_voxel(
        synthetic_semantickitti, semantickitti_frame):
    cfg = _cylinder_cfg(CY_FITNETS, synthetic_semantickitti)
    # the teacher sees 1500 other points of the same scan: the voxels of
    # the two sides overlap only partly (and its preprocessor, in train
    # mode, must not voxelize the student's 2000 point labels)
    cfg.teacher_inputs = dict(points='teacher_points')
    d = build(cfg)
    d.train()
    adapter = d.adapters['loss_kd_backbone']
    assert (adapter.in_channels, adapter.out_channels) == (16, 32)
    data = copy.deepcopy(semantickitti_frame.data)
    data['inputs']['teacher_points'] = [semantickitti_frame.other_points]
    losses = d(**data, mode='loss')
    assert_finite(losses)
    assert {'decode.loss_ce', 'decode.loss_lovasz'} <= set(losses)
    kd = losses['loss_kd_backbone']
    assert kd.item() > 0

    s_rec = d._student_recorders['backbone|None|None|None'].record
    t_rec = d._teacher_recorders['backbone|None|None|None'].record
    assert s_rec.kind == t_rec.kind == 'sparse'
    assert s_rec.channels == 16 and t_rec.channels == 32
    idx_s, idx_t = match_rows(s_rec.coors, t_rec.coors)
    assert 0 < len(idx_s) < min(len(s_rec.coors), len(t_rec.coors))
    with torch.no_grad():
        expected = torch.mean(
            (adapter(s_rec.tensor[idx_s]) - t_rec.tensor[idx_t])**2)
    assert kd.item() == pytest.approx(expected.item(), rel=1e-4)

    total_loss(d, losses).backward()
    assert adapter.proj.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in d.teacher.parameters())


def test_cylinder3d_logit_kd_step(synthetic_semantickitti,
                                  semantickitti_frame):
    d = build(_cylinder_cfg(CY_LOGIT, synthetic_semantickitti))
    d.train()
    losses = d(**copy.deepcopy(semantickitti_frame.data), mode='loss')
    assert_finite(losses)
    kd = losses['loss_kd_logits']
    assert kd.item() > 0 and math.isfinite(kd.item())
    s_rec = d._student_recorders[
        'decode_head.conv_seg|None|None|None'].record
    t_rec = d._teacher_recorders[
        'decode_head.conv_seg|None|None|None'].record
    assert s_rec.kind == t_rec.kind == 'sparse'
    assert s_rec.channels == t_rec.channels == 20
    total_loss(d, losses).backward()
    grad = d.student.decode_head.conv_seg.weight.grad
    assert grad is not None and grad.abs().sum() > 0


def test_distiller_class_is_registered():
    assert MODELS.get('Distiller3D') is Distiller3D


# ----------------------------------------------------------------------
# how strongly a KD term pulls (distill3d.benchmark.grad_ratio)
# ----------------------------------------------------------------------
def test_kd_gradient_ratio_scales_with_the_loss_weight():
    from distill3d.benchmark.grad_ratio import (format_ratios,
                                                kd_gradient_ratios)
    d = build(pp_cfg(PP_LOGIT))
    params = {k: v.detach().clone() for k, v in d.student.named_parameters()}
    d.distill_losses['loss_kd_cls'].loss_weight = 1.0
    one = kd_gradient_ratios(d, [batch()])['loss_kd_cls']
    d.distill_losses['loss_kd_cls'].loss_weight = 10.0
    ten = kd_gradient_ratios(d, [batch()])
    # gradients are linear in the weight; the task gradient is unchanged
    assert ten['loss_kd_cls']['ratio'] == pytest.approx(10 * one['ratio'],
                                                        rel=1e-3)
    assert 0.9 < ten['loss_kd_cls']['reach'] <= 1.0  # head to PFN
    assert -1 <= ten['loss_kd_cls']['cosine'] <= 1
    # on the reached tensors: the same dot product over a smaller task norm
    kd = ten['loss_kd_cls']
    assert kd['reach_cosine'] == pytest.approx(
        kd['cosine'] * kd['reach_ratio'] / kd['ratio'], rel=1e-4)
    assert 'loss_kd_cls' in format_ratios(ten)
    # nothing was trained
    for k, v in d.student.named_parameters():
        assert torch.equal(v, params[k]), k


def test_kd_term_scale_weights_one_term():
    """kd_term_scale (DistillLossWeightHook's ``terms``) multiplies the
    named term on top of kd_weight_scale; other terms are untouched."""
    d = build(pp_cfg(PP_LOGIT))
    d.train()

    def kd():
        torch.manual_seed(0)
        data = d.data_preprocessor(batch(), True)
        return d(**data, mode='loss')['loss_kd_cls']

    full = kd()
    assert full.item() > 0
    d.kd_term_scale['loss_kd_cls'] = 0.25
    assert kd().item() == pytest.approx(0.25 * full.item(), rel=1e-5)
    d.kd_weight_scale = 0.5
    assert kd().item() == pytest.approx(0.125 * full.item(), rel=1e-5)
    d.kd_term_scale['loss_kd_other'] = 0.0  # names no term: no effect
    assert kd().item() == pytest.approx(0.125 * full.item(), rel=1e-5)


def test_kd_gradient_ratio_at_a_module_output():
    """``at``: per-row gradients at the classification conv's (N, C, H, W)
    output, against the task's on the same rows."""
    from distill3d.benchmark.grad_ratio import (format_ratios,
                                                kd_gradient_ratios)
    d = build(pp_cfg(PP_LOGIT))
    d.distill_losses['loss_kd_cls'].loss_weight = 1.0
    one = kd_gradient_ratios(d, [batch()], at='bbox_head.conv_cls')
    d.distill_losses['loss_kd_cls'].loss_weight = 10.0
    ten = kd_gradient_ratios(d, [batch()], at='bbox_head.conv_cls')
    a, b = one['loss_kd_cls'], ten['loss_kd_cls']
    # the logit term reaches every BEV cell of the map it distils
    assert a['rows'] == pytest.approx(1.0)
    assert b['row_grad'] == pytest.approx(10 * a['row_grad'], rel=1e-3)
    assert b['task_row_grad'] == pytest.approx(a['task_row_grad'])
    assert b['row_ratio'] == pytest.approx(10 * a['row_ratio'], rel=1e-3)
    assert a['row_norm'] > 0 and a['task_row_grad'] > 0
    # directions do not depend on the weight
    assert b['row_cosine'] == pytest.approx(a['row_cosine'], abs=1e-4)
    assert -1 <= a['row_cosine'] <= 1 and 0 <= a['row_agree'] <= 1
    assert 'at bbox_head.conv_cls' in format_ratios(ten)
    # a neck's one-map list ([(N, C, H, W)]) is taken as its map: the
    # logit term reaches every BEV cell of it, through conv_cls
    neck = kd_gradient_ratios(d, [batch()], at='neck')['loss_kd_cls']
    assert neck['rows'] == pytest.approx(1.0) and neck['row_grad'] > 0
    with pytest.raises(KeyError, match='bbox_head.nope'):
        kd_gradient_ratios(d, [batch()], at='bbox_head.nope')


# ----------------------------------------------------------------------
# teacher_cfg as _base_ entries take it (issue 15, item 1)
# ----------------------------------------------------------------------
README_EXAMPLE = """
_base_ = [
    'mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py',
    '{base}/fitnets_pointpillars.py',   # the method
]
teacher_cfg = {teacher!r}
teacher_ckpt = None
# student width changes, if the student is smaller than the teacher:
model = dict(backbone=dict(out_channels=[32, 64, 128]),
             neck=dict(in_channels=[32, 64, 128]))
"""


@pytest.mark.parametrize('teacher', [
    'mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py',
    'teacher.py',  # beside the config, as a _base_ entry would be
])
def test_teacher_cfg_as_base_entries_take_it(tmp_path, teacher):
    """The README's example: a package-scoped teacher config builds."""
    from helpers import REPO
    (tmp_path / 'teacher.py').write_text(
        "_base_ = ['mmdet3d::pointpillars/"
        "pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py']\n")
    path = tmp_path / 'distill.py'
    path.write_text(README_EXAMPLE.format(
        base=f'{REPO}/configs/_base_/distill', teacher=teacher))
    cfg = build_distill_cfg(Config.fromfile(str(path))).model
    d = MODELS.build(cfg)
    assert type(d.teacher).__name__ == 'VoxelNet'
    assert d.teacher.backbone.blocks[0][0].out_channels == 64
    assert d.student.backbone.blocks[0][0].out_channels == 32
    with pytest.raises(FileNotFoundError, match='mmdet3d::'):
        cfg.teacher = 'missing_teacher.py'
        MODELS.build(cfg)
