"""CenterHeatmapKDLoss by hand, and heatmap KD between real CenterPoint
models (teacher and 4x student) through Distiller3D."""
import pytest
import torch

from distill3d.models.losses import CenterHeatmapKDLoss


@pytest.mark.parametrize('pixels', ['all', 'teacher'])
@pytest.mark.parametrize('mode', ['kl', 'mse'])
def test_heatmap_kd_by_hand(mode, pixels):
    torch.manual_seed(0)
    s = torch.randn(2, 3, 5, 4, requires_grad=True)
    t = torch.randn(2, 3, 5, 4) * 3
    loss = CenterHeatmapKDLoss(temperature=2.0, mode=mode, loss_weight=0.5,
                               pixels=pixels)
    got = loss(s, t)
    ps, pt = torch.sigmoid(s / 2), torch.sigmoid(t / 2)
    if mode == 'kl':
        per = pt * torch.log(pt / ps) + (1 - pt) * torch.log(
            (1 - pt) / (1 - ps))
    else:
        per = (ps - pt)**2
    if pixels == 'all':
        expected = 0.5 * per.sum() / pt.sum().clamp_min(1.)
    else:
        w = pt.amax(dim=1, keepdim=True)
        expected = 0.5 * (per * w).sum() / w.sum()
    assert got.item() == pytest.approx(expected.item(), rel=1e-4)
    got.backward()
    assert s.grad.abs().sum() > 0
    assert loss(t, t).item() == pytest.approx(0., abs=1e-5)
    with pytest.raises(ValueError, match='differ'):
        loss(s, t[:, :2])
    with pytest.raises(ValueError, match='mode'):
        CenterHeatmapKDLoss(mode='focal')
    with pytest.raises(ValueError, match='pixels'):
        CenterHeatmapKDLoss(pixels='fg')


def test_heatmap_kd_teacher_pixels_ignore_the_background():
    """A student that differs from the teacher only where the teacher sees
    no centre: 'all' is dominated by it, 'teacher' barely sees it."""
    t = torch.full((1, 2, 20, 20), -30.)
    t[0, 0, 5, 5] = 3.
    s = t.clone()
    s[0, 0, 5, 5] = 1.  # the one object: the student is less sure
    s_bg = s.clone()
    s_bg[:, :, 10:, :] = -3.  # and its background is 30x less sure
    for pixels, grows in (('all', True), ('teacher', False)):
        loss = CenterHeatmapKDLoss(pixels=pixels)
        ratio = (loss(s_bg, t) / loss(s, t)).item()
        assert (ratio > 10) if grows else (ratio < 1.01), (pixels, ratio)


def _centerpoint_batch() -> dict:
    """A real-format batch whose boxes carry CenterHead's (zero) velocity."""
    from distill3d.datasets.transforms import AddZeroVelocity
    from test_models.test_distillers.test_distiller3d import batch, points
    data = batch([points(2000, x=(0., 10.)) + torch.tensor([5., 0, 0, 0])])
    for sample in data['data_samples']:
        inst = sample.gt_instances_3d
        inst.bboxes_3d = AddZeroVelocity()(
            dict(gt_bboxes_3d=inst.bboxes_3d))['gt_bboxes_3d']
    return data


def test_centerpoint_heatmap_kd_step():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from distill3d.engine import build_distill_cfg
    from helpers import config_path
    from mmdet3d.registry import MODELS
    heatmap_only = Config.fromfile(config_path(
        'distill/heatmap-kd_centerpoint-pillar016-4x_1xb2-cpu_synthetic-'
        'kitti-3d-3class.py'))
    assert set(heatmap_only.distiller.distill_losses) == {
        'loss_kd_heatmap0', 'loss_kd_heatmap1'}
    cfg = Config.fromfile(config_path(
        'distill/heatmap-feature-kd_centerpoint-pillar016-4x_1xb2-cpu_'
        'synthetic-kitti-3d-3class.py'))
    cfg.teacher_ckpt = None
    # an untrained teacher's heatmaps sit near sigmoid(-2.19) = 0.10
    cfg.distiller.distill_losses.loss_kd_neck.threshold = 0.05
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    model = MODELS.build(build_distill_cfg(cfg).model)
    model.train()
    data = _centerpoint_batch()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    kd = {k: v for k, v in losses.items() if k.startswith('loss_kd_')}
    assert set(kd) == {'loss_kd_heatmap0', 'loss_kd_heatmap1', 'loss_kd_neck'}
    assert 'kd_neck.masked' in losses
    assert all(torch.isfinite(v) for v in kd.values())
    assert all(v > 0 for v in kd.values())
    assert losses['kd_neck.masked'] > 0.5
    sum(kd.values()).backward()
    head = model.student.pts_bbox_head.task_heads[0].heatmap
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in head.parameters())
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.adapters['loss_kd_neck'].proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('method', ['heatmap-kd', 'confident-heatmap-kd'])
def test_centerpoint_heatmap_kd_is_zero_for_the_same_model(method):
    """Teacher == student: heatmap KD through the distiller's loss step is
    zero (both shipped variants). CenterHead's loss turns the student's
    heatmap logits into probabilities in place (``sigmoid_``) after they
    are recorded; a record that shared that tensor compared probabilities
    with the teacher's logits (KD ~ 10^2 here, and a push on every
    pixel)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from torch.nn.modules.batchnorm import _BatchNorm

    from distill3d.engine import build_distill_cfg
    from helpers import config_path
    from mmdet3d.registry import MODELS
    cfg = Config.fromfile(config_path(
        f'distill/{method}_centerpoint-pillar016-4x_1xb2-cpu_synthetic-'
        'kitti-3d-3class.py'))
    if method == 'confident-heatmap-kd':
        assert {(t.mode, t.pixels, t.loss_weight)
                for t in cfg.distiller.distill_losses.values()} == {
                    ('mse', 'teacher', 7.0)}
    cfg.teacher_cfg = config_path(
        'centerpoint/centerpoint_pillar016_secfpn-4x_1xb2-cpu_synthetic-'
        'kitti-3d-3class.py')
    cfg.teacher_ckpt = None
    init_default_scope('mmdet3d')
    torch.manual_seed(0)
    model = MODELS.build(build_distill_cfg(cfg).model)
    model.teacher.load_state_dict(model.student.state_dict())
    model.train()
    for m in model.student.modules():  # the teacher's (eval) statistics
        if isinstance(m, _BatchNorm):
            m.eval()
    data = _centerpoint_batch()
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert losses['task0.loss_heatmap'] > 0  # CenterHead's loss ran
    for key in ('loss_kd_heatmap0', 'loss_kd_heatmap1'):
        assert abs(losses[key].item()) < 1e-4, (key, losses[key].item())
    # and not zero for another model: the terms see the student
    model.student.pts_bbox_head.task_heads[0].heatmap[-1].bias.data += 1.
    losses = model(**model.data_preprocessor(data, True), mode='loss')
    assert losses['loss_kd_heatmap0'].item() > 1e-3


def test_teacher_masked_feature_loss_by_hand():
    from distill3d.models.losses import TeacherMaskedFeatureLoss
    torch.manual_seed(0)
    s = torch.randn(1, 2, 4, 4, requires_grad=True)
    t = torch.randn(1, 2, 4, 4)
    heat_a = torch.full((1, 1, 4, 4), -5.)
    heat_a[0, 0, 1, 2] = 3.  # confident at (1, 2)
    heat_b = torch.full((1, 2, 2, 2), -5.)
    heat_b[0, 1, 1, 1] = 3.  # a 2x2 map: covers (2..3, 2..3)
    loss = TeacherMaskedFeatureLoss(threshold=0.3, loss_weight=2.)
    got = loss(s, t, context=[heat_a, heat_b])
    mask = torch.zeros(4, 4)
    mask[1, 2] = 1
    mask[2:, 2:] = 1
    expected = 2 * ((s - t)**2 * mask).sum() / (mask.sum() * 2)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.log_vars['masked'].item() == pytest.approx(5 / 16)
    got.backward()
    assert s.grad[..., 0, 0].abs().sum() == 0
    empty = loss(s, t, context=[heat_a * 0 - 9])
    assert empty.item() == 0 and empty.requires_grad
