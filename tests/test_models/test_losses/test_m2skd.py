"""M2SKD's terms: logit KD at shared voxels and instance-aware affinity."""
import pytest
import torch
import torch.nn.functional as F
from mmdet3d.structures import Det3DDataSample, PointData

from distill3d.models.losses import (InstanceAffinityLoss, M2SKDLogitLoss,
                                     voxel_labels)
from distill3d.models.recorders import Record


def _sample(p_sem, p_inst, p2v, v_sem):
    """A data sample as mmdet3d's preprocessor leaves it in train mode."""
    sample = Det3DDataSample()
    sample.gt_pts_seg = PointData(
        pts_semantic_mask=torch.tensor(p_sem),
        pts_instance_mask=torch.tensor(p_inst))
    sample.gt_pts_seg.voxel_semantic_mask = torch.tensor(v_sem)
    sample.point2voxel_map = torch.tensor(p2v)
    return sample


def _record(feats, coors):
    return Record(feats, 'sparse', coors=coors)


def _coors(n, frame=0):
    idx = torch.arange(n)
    return torch.stack([torch.full_like(idx, frame), idx, idx * 2, idx % 3],
                       1).int()


def _two_instances():
    """Frame 0: voxels 0-3 instance 5 (class 1), 4-7 instance 9 (class 3),
    8-9 road (class 8, no instance). One point per voxel."""
    v_sem = [1] * 4 + [3] * 4 + [8] * 2
    p_inst = [5] * 4 + [9] * 4 + [0] * 2
    p2v = list(range(10))
    return [_sample(v_sem, p_inst, p2v, v_sem)], _coors(10)


def test_logit_loss_kl_form_and_detaches():
    s = torch.randn(50, 20, requires_grad=True)
    t = torch.randn(50, 20, requires_grad=True)
    loss = M2SKDLogitLoss(reduction='kl')(s, t)
    # KL(softmax(0.3 t) || softmax(0.3 s)) averaged over voxels and
    # classes, times 5 (not the released form: see the next test)
    expected = 5 * F.kl_div(F.log_softmax(0.3 * s, 1),
                            F.softmax(0.3 * t, 1), reduction='none').mean()
    assert torch.allclose(loss, expected, atol=1e-6)
    loss.backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    assert M2SKDLogitLoss()(t, t).item() == pytest.approx(0, abs=1e-7)


def test_logit_loss_release_form_by_hand():
    """Released form on 3 voxels x 2 classes, computed by hand: per voxel
    the class mean of p_t |log((p_t + 1e-6) / (p_s + 1e-6))|, voxels above
    0.01 only, their mean, times 5."""
    import math
    # T = 1 / 0.3 and logits chosen so that 0.3 z gives these probabilities
    p_s = [[0.5, 0.5], [0.9, 0.1], [0.5, 0.5]]
    p_t = [[0.5, 0.5], [0.5, 0.5], [0.8, 0.2]]

    def logits(p):
        return torch.tensor([[math.log(a) / 0.3, math.log(b) / 0.3]
                             for a, b in p], requires_grad=True)

    def term(ps, pt):
        return sum(b * abs(math.log((b + 1e-6) / (a + 1e-6)))
                   for a, b in zip(ps, pt)) / 2

    v = [term(a, b) for a, b in zip(p_s, p_t)]
    assert v[0] == 0 and v[1] > 0.01 and v[2] > 0.01
    expected = 5 * (v[1] + v[2]) / 2  # voxel 0 (0 <= 0.01) left out
    s = logits(p_s)
    loss_fn = M2SKDLogitLoss(reduction='release')
    loss = loss_fn(s, logits(p_t))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss_fn.log_vars['kept'].item() == pytest.approx(2 / 3)
    loss.backward()
    assert s.grad[0].abs().sum() == 0 and s.grad[1:].abs().sum() > 0
    # every voxel under the threshold: 0 with a gradient path
    same = logits(p_t)
    zero = loss_fn(same, logits(p_t))
    assert zero.item() == 0 and zero.requires_grad
    with pytest.raises(ValueError, match='reduction'):
        M2SKDLogitLoss(reduction='sum')


def test_voxel_labels_take_own_class_instance():
    # voxel 0: two car points of instance 3 and one person point of 7
    # (majority class car -> instance 3); voxel 1: road, no instance
    sample = _sample([0, 0, 5, 8], [3, 3, 7, 0], [0, 0, 0, 1], [0, 8])
    sem, inst, frame = voxel_labels([sample, sample])
    assert sem.tolist() == [0, 8, 0, 8]
    assert inst.tolist() == [3, 0, 3, 0]
    assert frame.tolist() == [0, 0, 1, 1]


def test_voxel_labels_need_instances():
    sample = _sample([0], [1], [0], [0])
    del sample.gt_pts_seg.pts_instance_mask
    with pytest.raises(KeyError, match='pts_instance_mask'):
        voxel_labels([sample])


@pytest.mark.parametrize('mode', ['instance', 'class'])
def test_affinity_zero_for_equal_and_gradient_to_student_only(mode):
    samples, coors = _two_instances()
    loss_fn = InstanceAffinityLoss(4, 6, mode=mode)
    s = torch.randn(10, 4, requires_grad=True)
    t = torch.randn(10, 6, requires_grad=True)
    assert loss_fn(_record(t, coors), _record(t, coors),
                   samples).item() == pytest.approx(0, abs=1e-6)
    loss = loss_fn(_record(s, coors), _record(t, coors), samples)
    assert loss.item() > 0
    loss.backward()
    assert s.grad.abs().sum() > 0 and t.grad is None
    # road voxels (not hard) get no gradient
    assert s.grad[8:].abs().sum() == 0


@pytest.mark.parametrize('mode', ['instance', 'class'])
def test_affinity_gradient_scales_as_one_over_the_logit_norm(mode):
    """Cosine affinities ignore the rows' length, so their gradient is
    inversely proportional to it: on a fresh student's small logits the
    term pulls far harder than on a trained one's (the M2SKD study)."""
    samples, coors = _two_instances()
    loss_fn = InstanceAffinityLoss(4, 4, mode=mode)
    base, t = torch.randn(10, 4), torch.randn(10, 4)
    grads = []
    for scale in (0.1, 10.0):
        s = (base * scale).requires_grad_()
        loss = loss_fn(_record(s, coors), _record(t, coors), samples)
        loss.backward()
        grads.append(s.grad.norm())
    assert grads[0] / grads[1] == pytest.approx(100.0, rel=1e-3)


def test_affinity_uses_shared_voxels_only():
    samples, coors = _two_instances()
    loss_fn = InstanceAffinityLoss(4, 4)
    t = torch.randn(10, 4)
    # the teacher has two extra voxels (fused points) and another order;
    # student == teacher at the shared ones -> zero
    extra = torch.tensor([[0, 99, 1, 1], [0, 98, 1, 1]], dtype=torch.int)
    perm = torch.randperm(10)
    t_coors = torch.cat([coors[perm], extra])
    t_feats = torch.cat([t[perm], torch.randn(2, 4)])
    loss = loss_fn(_record(t, coors), _record(t_feats, t_coors), samples)
    assert loss.item() == pytest.approx(0, abs=1e-6)


def test_instance_and_class_affinity_differ():
    """Student = teacher with instance 9's vectors negated: every
    within-class (and within-instance) cosine is unchanged, so the
    class-level loss is 0, but the across-instance affinity (instance 5
    against 9) flips sign, which only the instance-aware loss sees."""
    samples, coors = _two_instances()
    t = torch.randn(10, 4)
    t[:8] = t[:8].abs() + 0.1  # instances' mean vectors not orthogonal
    s = t.clone()
    s[4:8] = -s[4:8]
    by_class = InstanceAffinityLoss(4, 4, mode='class')
    by_instance = InstanceAffinityLoss(4, 4, mode='instance', across='all')
    assert by_class(_record(s, coors), _record(t, coors),
                    samples).item() == pytest.approx(0, abs=1e-6)
    assert by_instance(_record(s, coors), _record(t, coors),
                       samples).item() > 0.1


def test_class_mode_mixes_instances_of_one_class():
    """Two instances of one class: the class matrix holds cross-instance
    voxel pairs, the instance matrices do not."""
    v_sem = [5] * 6
    sample = _sample(v_sem, [1, 1, 1, 2, 2, 2], list(range(6)), v_sem)
    coors = _coors(6)
    t = torch.randn(6, 4)
    s = t.clone()
    # rotate instance 2's vectors: its own cosines are unchanged
    rot = torch.linalg.qr(torch.randn(4, 4))[0]
    s[3:] = s[3:] @ rot
    loss_fn = InstanceAffinityLoss(4, 4, mode='instance', across_weight=0)
    assert loss_fn(_record(s, coors), _record(t, coors),
                   [sample]).item() == pytest.approx(0, abs=1e-5)
    assert InstanceAffinityLoss(4, 4, mode='class')(
        _record(s, coors), _record(t, coors), [sample]).item() > 1e-3


def test_affinity_frames_do_not_mix():
    """The same two instances in two frames: one across-instance matrix
    per frame, and the nodes cap bounds each matrix."""
    s1, c1 = _two_instances()
    _, c2 = _two_instances()
    c2[:, 0] = 1
    coors = torch.cat([c1, c2])
    loss_fn = InstanceAffinityLoss(4, 4, max_nodes=3, across='all')
    groups = loss_fn.groups(*voxel_labels(s1 * 2))
    assert len(groups['within']) == 4 and len(groups['across']) == 2
    # the two instances are of different classes: no across-instance
    # matrix holds them with across='class'
    by_class = InstanceAffinityLoss(4, 4, max_nodes=3, across='class')
    assert len(by_class.groups(*voxel_labels(s1 * 2))['across']) == 0
    t = torch.randn(20, 4)
    assert loss_fn(_record(t, coors), _record(t, coors),
                   s1 * 2).item() == pytest.approx(0, abs=1e-6)


def test_affinity_errors():
    samples, coors = _two_instances()
    loss_fn = InstanceAffinityLoss(4, 4)
    with pytest.raises(ValueError, match='input voxel resolution'):
        loss_fn(_record(torch.randn(6, 4), coors[:6]),
                _record(torch.randn(6, 4), coors[:6]), samples)
    with pytest.raises(ValueError, match='mode'):
        InstanceAffinityLoss(4, 4, mode='pixel')
    with pytest.raises(ValueError, match='voxel / sparse'):
        loss_fn(Record(torch.randn(10, 4), 'tensor'),
                Record(torch.randn(10, 4), 'tensor'), samples)


def _prototype_cosine(s, sem, a, b):
    pa = F.normalize(F.normalize(s[sem == a], dim=1).mean(0), dim=0)
    pb = F.normalize(F.normalize(s[sem == b], dim=1).mean(0), dim=0)
    return float(pa @ pb)


@pytest.mark.parametrize('across,mode', [('all', 'instance'),
                                         ('class', 'instance'),
                                         ('class', 'class')])
def test_teacher_confusing_two_classes(across, mode):
    """Two hard classes (1 and 3), two instances each; the teacher gives
    both classes the same direction (it confuses them). Trained on the
    affinity term alone, the student's class prototypes are pulled
    together only when one matrix holds both classes (across='all')."""
    torch.manual_seed(0)
    v_sem = [1] * 6 + [3] * 6
    p_inst = [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    samples = [_sample(v_sem, p_inst, list(range(12)), v_sem)]
    coors = _coors(12)
    sem = torch.tensor(v_sem)
    base = torch.tensor([1., 0.3, 0., 0.])
    t = base + 0.05 * torch.randn(12, 4)  # one direction for both classes
    s = torch.zeros(12, 4)
    s[sem == 1] = torch.tensor([1., 0., 0., 0.])
    s[sem == 3] = torch.tensor([0., 0., 1., 0.])
    s = (s + 0.05 * torch.randn(12, 4)).requires_grad_(True)
    before = _prototype_cosine(s.detach(), sem, 1, 3)
    loss_fn = InstanceAffinityLoss(4, 4, mode=mode, across=across)
    opt = torch.optim.SGD([s], lr=0.5)
    for _ in range(300):
        loss = loss_fn(_record(s, coors), _record(t, coors), samples)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = _prototype_cosine(s.detach(), sem, 1, 3)
    assert before < 0.1
    if across == 'all':
        assert after > 0.9, (before, after)
    else:
        assert after < 0.3, (before, after)
    with pytest.raises(ValueError, match='across'):
        InstanceAffinityLoss(4, 4, across='frame')
