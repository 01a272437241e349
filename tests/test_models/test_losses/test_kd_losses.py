"""KD losses: KDLogitLoss, FeatureMSELoss, ChannelWiseDistillLoss against
hand-written reference formulas, scaling, gradients, AMP and empty inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from distill3d.models.losses import (ChannelWiseDistillLoss, FeatureMSELoss,
                                     KDLogitLoss)
from mmdet3d.registry import MODELS


def _rand(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g)


# ----------------------------------------------------------------------
# reference formulas, written out element by element
# ----------------------------------------------------------------------
def ref_softmax_kd(s, t, T):
    """T^2 * mean over rows of sum_c p_t (log p_t - log p_s)."""
    total = 0.
    for row_s, row_t in zip(s.tolist(), t.tolist()):
        zs = [v / T for v in row_s]
        zt = [v / T for v in row_t]
        ls = math.log(sum(math.exp(v) for v in zs))
        lt = math.log(sum(math.exp(v) for v in zt))
        for a, b in zip(zs, zt):
            p_t = math.exp(b - lt)
            total += p_t * ((b - lt) - (a - ls))
    return total / len(s) * T * T


def ref_sigmoid_kd(s, t, T):
    """T^2 * mean over all entries of the binary KL(p_t || p_s)."""
    vals = []
    for a, b in zip(s.flatten().tolist(), t.flatten().tolist()):
        p_s = 1 / (1 + math.exp(-a / T))
        p_t = 1 / (1 + math.exp(-b / T))
        vals.append(p_t * math.log(p_t / p_s) +
                    (1 - p_t) * math.log((1 - p_t) / (1 - p_s)))
    return sum(vals) / len(vals) * T * T


def ref_cwd(s, t, tau):
    """tau^2 / (B*C) * sum over (b, c) of KL over H*W positions."""
    b, c = s.shape[:2]
    total = 0.
    for i in range(b):
        for j in range(c):
            total += ref_softmax_kd(s[i, j].reshape(1, -1),
                                    t[i, j].reshape(1, -1), tau) / tau**2
    return total / (b * c) * tau**2


# ----------------------------------------------------------------------
# KDLogitLoss
# ----------------------------------------------------------------------
@pytest.mark.parametrize('mode', ['softmax', 'sigmoid'])
def test_kd_logit_zero_for_equal_inputs(mode):
    x = _rand(2, 6, 3, 4)
    loss = KDLogitLoss(mode=mode, temperature=2.0)(x, x.clone())
    assert abs(loss.item()) < 1e-6


@pytest.mark.parametrize('mode', ['softmax', 'sigmoid'])
def test_kd_logit_positive_for_different_inputs(mode):
    loss = KDLogitLoss(mode=mode)(_rand(2, 6, 3, 4), _rand(2, 6, 3, 4, seed=1))
    assert loss.item() > 1e-3


@pytest.mark.parametrize('T', [1.0, 3.0])
def test_kd_logit_softmax_matches_reference(T):
    s, t = _rand(5, 4), _rand(5, 4, seed=1)
    loss = KDLogitLoss(mode='softmax', temperature=T)(s, t)
    assert loss.item() == pytest.approx(ref_softmax_kd(s, t, T), rel=1e-5)


@pytest.mark.parametrize('T', [1.0, 3.0])
def test_kd_logit_sigmoid_matches_reference(T):
    s, t = _rand(5, 4), _rand(5, 4, seed=1)
    loss = KDLogitLoss(mode='sigmoid', temperature=T)(s, t)
    assert loss.item() == pytest.approx(ref_sigmoid_kd(s, t, T), rel=1e-5)


def test_kd_logit_dense_map_is_class_axis_at_dim1():
    """(B, C, H, W) logits: positions are B*H*W rows of C classes."""
    s, t = _rand(2, 3, 2, 2), _rand(2, 3, 2, 2, seed=1)
    rows_s = s.permute(0, 2, 3, 1).reshape(-1, 3)
    rows_t = t.permute(0, 2, 3, 1).reshape(-1, 3)
    loss = KDLogitLoss(mode='softmax', temperature=2.0)(s, t)
    assert loss.item() == pytest.approx(
        ref_softmax_kd(rows_s, rows_t, 2.0), rel=1e-5)


def test_kd_logit_temperature_squared_scaling():
    """At T the loss is T^2 times the KL of the T-softened distributions."""
    s, t = _rand(8, 5), _rand(8, 5, seed=1)
    T = 4.0
    loss_t = KDLogitLoss(temperature=T)(s, t)
    loss_1 = KDLogitLoss(temperature=1.0)(s / T, t / T)
    assert loss_t.item() == pytest.approx(T**2 * loss_1.item(), rel=1e-5)


def test_kd_logit_anchor_packing_via_num_classes():
    """Anchor heads pack (anchors x classes) on the channel axis; with
    num_classes the softmax runs over each anchor's classes only."""
    A, C = 2, 3
    s, t = _rand(1, A * C, 2, 2), _rand(1, A * C, 2, 2, seed=1)
    packed = KDLogitLoss(mode='softmax', num_classes=C)(s, t)
    # mmdet3d's Anchor3DHead layout: permute(0, 2, 3, 1).reshape(-1, C)
    rows_s = s.permute(0, 2, 3, 1).reshape(-1, C)
    rows_t = t.permute(0, 2, 3, 1).reshape(-1, C)
    assert packed.item() == pytest.approx(
        ref_softmax_kd(rows_s, rows_t, 1.0), rel=1e-5)
    unpacked = KDLogitLoss(mode='softmax')(s, t)
    assert abs(packed.item() - unpacked.item()) > 1e-4


def test_kd_logit_gradient_to_student_only():
    s = _rand(4, 3).requires_grad_()
    t = _rand(4, 3, seed=1).requires_grad_()
    for mode in ('softmax', 'sigmoid'):
        s.grad = None
        KDLogitLoss(mode=mode)(s, t).backward()
        assert s.grad is not None and s.grad.abs().sum() > 0
        assert t.grad is None


@pytest.mark.parametrize('mode', ['softmax', 'sigmoid'])
def test_kd_logit_float32_under_bf16_autocast(mode):
    s = _rand(4, 6, 3, 3).bfloat16().requires_grad_()
    t = _rand(4, 6, 3, 3, seed=1).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = KDLogitLoss(mode=mode, temperature=2.0)(s, t)
    assert loss.dtype == torch.float32
    ref = KDLogitLoss(mode=mode, temperature=2.0)(s.detach().float(),
                                                   t.float())
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    loss.backward()
    assert torch.isfinite(s.grad.float()).all()


def test_kd_logit_argument_validation():
    with pytest.raises(ValueError, match='mode'):
        KDLogitLoss(mode='softplus')
    with pytest.raises(ValueError, match='temperature'):
        KDLogitLoss(temperature=0)


# ----------------------------------------------------------------------
# FeatureMSELoss
# ----------------------------------------------------------------------
def test_feature_mse_reference_and_zero():
    s, t = _rand(3, 5), _rand(3, 5, seed=1)
    ref = sum((a - b)**2 for a, b in zip(s.flatten().tolist(),
                                         t.flatten().tolist())) / 15
    assert FeatureMSELoss()(s, t).item() == pytest.approx(ref, rel=1e-5)
    assert FeatureMSELoss()(s, s.clone()).item() == 0.


def test_feature_mse_gradient_to_student_only():
    s = _rand(2, 4, 3, 3).requires_grad_()
    t = _rand(2, 4, 3, 3, seed=1).requires_grad_()
    FeatureMSELoss()(s, t).backward()
    assert s.grad.abs().sum() > 0
    assert t.grad is None


# ----------------------------------------------------------------------
# ChannelWiseDistillLoss
# ----------------------------------------------------------------------
@pytest.mark.parametrize('tau', [1.0, 2.5])
def test_cwd_matches_reference(tau):
    s, t = _rand(2, 3, 2, 3), _rand(2, 3, 2, 3, seed=1)
    loss = ChannelWiseDistillLoss(tau=tau)(s, t)
    assert loss.item() == pytest.approx(ref_cwd(s, t, tau), rel=1e-5)


def test_cwd_zero_for_equal_and_positive_otherwise():
    s = _rand(2, 3, 4, 4)
    assert abs(ChannelWiseDistillLoss()(s, s.clone()).item()) < 1e-6
    assert ChannelWiseDistillLoss()(s, _rand(2, 3, 4, 4, seed=1)).item() > 0


def test_cwd_is_per_channel_spatial_distribution():
    """Adding a per-channel constant does not change a spatial softmax."""
    s, t = _rand(1, 2, 3, 3), _rand(1, 2, 3, 3, seed=1)
    shifted = s + torch.tensor([5., -3.]).view(1, 2, 1, 1)
    assert ChannelWiseDistillLoss()(shifted, t).item() == pytest.approx(
        ChannelWiseDistillLoss()(s, t).item(), rel=1e-5)


@pytest.mark.parametrize('shape', [(3, 4), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_cwd_rejects_non_4d(shape):
    x = _rand(*shape)
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        ChannelWiseDistillLoss()(x, x)


def test_cwd_argument_validation():
    with pytest.raises(ValueError, match='tau'):
        ChannelWiseDistillLoss(tau=-1.)


# ----------------------------------------------------------------------
# shared behaviour
# ----------------------------------------------------------------------
LOSSES = [
    ('KDLogitLoss', dict(mode='softmax', temperature=2.0)),
    ('KDLogitLoss', dict(mode='sigmoid', temperature=2.0)),
    ('FeatureMSELoss', dict()),
    ('ChannelWiseDistillLoss', dict(tau=2.0)),
]


@pytest.mark.parametrize('type_,kwargs', LOSSES)
def test_loss_weight_scales_linearly(type_, kwargs):
    s, t = _rand(2, 6, 3, 3), _rand(2, 6, 3, 3, seed=1)
    base = MODELS.build(dict(type=type_, **kwargs))(s, t)
    weighted = MODELS.build(dict(type=type_, loss_weight=0.25, **kwargs))(s, t)
    assert base.item() > 0
    assert weighted.item() == pytest.approx(0.25 * base.item(), rel=1e-6)


@pytest.mark.parametrize('type_,kwargs', LOSSES)
@pytest.mark.parametrize('shape', [(0, 6, 3, 3), (2, 6, 0, 0)])
def test_empty_inputs_give_zero(type_, kwargs, shape):
    s = torch.zeros(shape, requires_grad=True)
    loss = MODELS.build(dict(type=type_, **kwargs))(s, torch.zeros(shape))
    assert loss.dim() == 0
    assert torch.isfinite(loss) and loss.item() == 0.
    loss.backward()  # still part of the graph
    assert s.grad is not None


@pytest.mark.parametrize('type_,kwargs', LOSSES[:3])
def test_empty_voxel_rows_give_zero(type_, kwargs):
    """(0, C) voxel / sparse features (no shared voxel) give 0, not NaN."""
    s = torch.zeros(0, 6, requires_grad=True)
    loss = MODELS.build(dict(type=type_, **kwargs))(s, torch.zeros(0, 6))
    assert torch.isfinite(loss) and loss.item() == 0.


@pytest.mark.parametrize('type_,kwargs', LOSSES)
def test_float32_under_autocast(type_, kwargs):
    s = _rand(2, 6, 3, 3).bfloat16()
    t = _rand(2, 6, 3, 3, seed=1).bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = MODELS.build(dict(type=type_, **kwargs))(s, t)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def test_sigmoid_kd_equals_bce_difference():
    """Sigmoid KD is BCE(s, p_t) - H(p_t), i.e. the binary KL, exactly."""
    s, t = _rand(7, 3), _rand(7, 3, seed=1)
    p_t = torch.sigmoid(t)
    kl = F.binary_cross_entropy_with_logits(s, p_t) - \
        F.binary_cross_entropy_with_logits(t, p_t)
    assert KDLogitLoss(mode='sigmoid')(s, t).item() == pytest.approx(
        kl.item(), rel=1e-5)
