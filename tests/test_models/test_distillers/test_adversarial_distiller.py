"""AdversarialDistiller3D with the FAD term: alternating updates with two
optimizers, each on its own parameters; frozen teacher; export."""
import pytest
import torch

from cls_helpers import tiny_model_dict


@pytest.fixture(autouse=True, scope='module')
def _scope():
    from mmdet3d.utils import register_all_modules
    register_all_modules()


def _distiller(**kwargs):
    from mmdet3d.registry import MODELS
    torch.manual_seed(0)
    cfg = dict(
        type='AdversarialDistiller3D',
        student=tiny_model_dict(student=True),
        teacher=tiny_model_dict(),
        distill_losses=dict(
            loss_kd_fad=dict(
                type='FeatureAdversarialLoss', student='neck',
                teacher='neck', adapter=dict(type='ChannelAdapter')),
            loss_kd_cls=dict(
                type='KDLogitLoss', temperature=4.0,
                student='head.fc_cls', teacher='head.fc_cls')))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _optim(distiller, lr=1e-2):
    from distill3d.engine import AdversarialOptimWrapperConstructor
    return AdversarialOptimWrapperConstructor(
        dict(student=dict(type='OptimWrapper',
                          optimizer=dict(type='Adam', lr=lr)),
             discriminator=dict(type='OptimWrapper',
                                optimizer=dict(type='Adam', lr=lr))))(
                                    distiller)


def _batch(num=4, points=64):
    from mmdet3d.structures import Det3DDataSample
    g = torch.Generator().manual_seed(1)
    samples = []
    for i in range(num):
        s = Det3DDataSample()
        s.gt_label = torch.tensor([i])
        samples.append(s)
    return dict(inputs=dict(points=[torch.randn(points, 6, generator=g)
                                    for _ in range(num)]),
                data_samples=samples)


def _ids(module):
    return {id(p) for p in module.parameters()}


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return any(not torch.equal(b, p) for b, p in zip(before,
                                                     module.parameters()))


def test_optimizer_groups():
    distiller = _distiller()
    fad = distiller.distill_losses['loss_kd_fad']
    # the discriminator width was read from the teacher's neck
    assert fad.discriminator.in_channels == 1024
    optim = _optim(distiller)
    assert set(optim.keys()) == {'student', 'discriminator'}

    def group_ids(name):
        return {id(p) for g in optim[name].optimizer.param_groups
                for p in g['params']}
    s_ids, d_ids = group_ids('student'), group_ids('discriminator')
    assert s_ids == _ids(distiller.student) | _ids(distiller.adapters)
    assert d_ids == _ids(fad.discriminator)
    assert not (s_ids | d_ids) & _ids(distiller.teacher)


def test_alternating_updates_touch_own_parameters_only():
    distiller = _distiller()
    distiller.train()
    optim = _optim(distiller)
    fad = distiller.distill_losses['loss_kd_fad']
    parts = dict(student=distiller.student, adapters=distiller.adapters,
                 disc=fad.discriminator, teacher=distiller.teacher)
    calls = []

    def record(name, wrapper):
        original = wrapper.update_params

        def update_params(loss, **kwargs):
            before = {k: _snapshot(m) for k, m in parts.items()}
            original(loss, **kwargs)
            if name == 'student':
                # the discriminator was frozen in the student forward: the
                # student's backward left no gradient on it
                assert all(p.grad is None
                           for p in fad.discriminator.parameters())
            calls.append((name, {k: _changed(before[k], m)
                                 for k, m in parts.items()}))
        wrapper.update_params = update_params

    for name in ('student', 'discriminator'):
        record(name, optim[name])
    log = distiller.train_step(_batch(), optim)
    assert [c[0] for c in calls] == ['student', 'discriminator']
    assert calls[0][1] == dict(student=True, adapters=True, disc=False,
                               teacher=False)
    assert calls[1][1] == dict(student=False, adapters=False, disc=True,
                               teacher=False)
    for key in ('loss', 'loss_cls', 'loss_kd_fad', 'loss_kd_cls',
                'disc_loss', 'disc_real', 'disc_fake', 'disc_acc'):
        assert key in log, key
    # the discriminator is trainable again, the teacher never is
    assert all(p.requires_grad for p in fad.discriminator.parameters())
    assert all(not p.requires_grad and p.grad is None
               for p in distiller.teacher.parameters())
    assert not distiller.teacher.training
    assert not fad.has_pair()

    # both Adam states advanced once per step
    distiller.train_step(_batch(), optim)
    steps = {name: [s['step'] for s in optim[name].optimizer.state.values()]
             for name in ('student', 'discriminator')}
    assert all(float(s) == 2 for v in steps.values() for s in v)


def test_disc_steps_and_stopped_distillation():
    distiller = _distiller(disc_steps=2)
    distiller.train()
    optim = _optim(distiller)
    counts = dict(student=0, discriminator=0)
    for name in counts:
        original = optim[name].update_params

        def update_params(loss, _name=name, _orig=original, **kwargs):
            counts[_name] += 1
            _orig(loss, **kwargs)
        optim[name].update_params = update_params
    distiller.train_step(_batch(), optim)
    assert counts == dict(student=1, discriminator=2)
    distiller.distill_enabled = False  # StopDistillHook
    log = distiller.train_step(_batch(), optim)
    assert counts == dict(student=2, discriminator=2)
    assert 'disc_loss' not in log and 'loss_kd_fad' not in log


def test_needs_optim_wrapper_dict_and_adversarial_term():
    from mmengine.optim import OptimWrapper
    distiller = _distiller()
    single = OptimWrapper(torch.optim.SGD(distiller.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='AdversarialOptimWrapperConstructor'):
        distiller.train_step(_batch(), single)
    with pytest.raises(ValueError, match='adversarial'):
        _distiller(distill_losses=dict(loss_kd_cls=dict(
            type='KDLogitLoss', student='head.fc_cls',
            teacher='head.fc_cls')))
    from distill3d.engine import AdversarialOptimWrapperConstructor
    with pytest.raises(KeyError, match='generator'):
        AdversarialOptimWrapperConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=1)),
            discriminator=dict(optimizer=dict(type='SGD', lr=1)),
            generator=dict(optimizer=dict(type='SGD', lr=1))))


def test_predict_runs_student_and_export_has_student_only():
    from distill3d.apis.export import split_state
    distiller = _distiller()
    distiller.eval()
    batch = distiller.data_preprocessor(_batch(), False)
    preds = distiller(**batch, mode='predict')
    assert preds[0].pred_score.shape == (40, )
    student, dropped = split_state(distiller.state_dict())
    assert set(student) == set(distiller.student.state_dict())
    assert not any('discriminator' in k or 'adapter' in k for k in student)
    assert {'teacher', 'adapters', 'distill_losses'} <= set(dropped)


@pytest.mark.parametrize('name', [
    'fad_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py',
    'fad-logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py',
    'logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py',
    'fad_pointnet2-ssg-40x_1xb16-cpu_synthetic-scanobjectnn.py',
    'fad-logit-kd_pointnet2-ssg-40x_1xb16-cpu_synthetic-scanobjectnn.py',
    'fad_pointnet2-ssg-40x_1xb24-200e_modelnet40.py',
])
def test_project_configs_build(name):
    """Every FAD project config builds its distiller and optimizers."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.optim import OptimWrapperDict, build_optim_wrapper

    from distill3d.engine import build_distill_cfg
    from helpers import REPO
    from mmdet3d.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'projects/FAD/configs', name))
    cfg.teacher_ckpt = None
    cfg = build_distill_cfg(cfg)
    model = MODELS.build(cfg.model)
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    if 'fad' in name:
        assert isinstance(optim, OptimWrapperDict)
        fad = model.distill_losses['loss_kd_fad']
        assert fad.discriminator.in_channels == 1024
        # the defaults chosen by the FAD study: no trivial cue between the
        # non-negative (max-pooled) teacher features and the student's
        # adapted ones (no ReLU zeros, both signs after standardising), an
        # R1-regularised discriminator instead of spectral norm, conditioned
        # on the teacher's class probabilities
        torch.manual_seed(0)
        teacher = torch.rand(64, 1024)
        student = model.adapters[next(iter(model.adapters))](
            torch.randn(64, 160))
        with torch.no_grad():
            t, s = fad._prep(teacher), fad._prep(student)
        assert (student == 0).float().mean() < 0.01
        for side in (t, s):
            assert 0.3 < (side < 0).float().mean() < 0.7
        assert fad.r1_gamma > 0 and not any(
            'parametrizations' in k for k in fad.discriminator.state_dict())
        classes = model.student.head.fc_cls.out_features
        assert fad.condition == 'teacher'
        assert fad.discriminator.num_classes == classes
    assert ('loss_kd_cls' in model.distill_losses) == ('logit-kd' in name)


def test_gradient_ratio_logging_matches_direct_computation():
    """grad_ratio_adv / grad_ratio_paired: gradient norm of each FAD part
    at the student's neck feature over the task loss's, every N steps."""
    distiller = _distiller(grad_ratio_interval=2)
    distiller.distill_losses['loss_kd_fad'].paired_weight = 0.5
    distiller.train()
    optim = _optim(distiller)
    logs = [distiller.train_step(_batch(), optim) for _ in range(3)]
    assert 'grad_ratio_adv' in logs[0] and 'grad_ratio_paired' in logs[0]
    assert 'grad_ratio_adv' not in logs[1] and 'grad_ratio_adv' in logs[2]
    assert 'kd_fad.adv' in logs[0] and 'kd_fad.paired' in logs[0]
    # direct computation on the same batch and weights
    data = distiller.data_preprocessor(_batch(), True)
    distiller.discriminator_modules()['loss_kd_fad'].requires_grad_(False)
    losses = distiller(**data, mode='loss')
    ratios = distiller.gradient_ratios(losses)
    term = distiller.distill_losses['loss_kd_fad']
    feat = distiller._student_recorders[
        distiller._terms[0].student.key].record.tensor
    task = sum(v for k, v in losses.items() if k.startswith('loss_cls'))
    g_task, = torch.autograd.grad(task, feat, retain_graph=True)
    g_adv, = torch.autograd.grad(term.parts['adv'], feat, retain_graph=True)
    assert ratios['grad_ratio_adv'].item() == pytest.approx(
        (g_adv.norm() / g_task.norm()).item(), rel=1e-5)
    assert ratios['grad_ratio_adv'].item() > 0
    with pytest.raises(ValueError, match='grad_ratio_interval'):
        _distiller(grad_ratio_interval=-1)


def test_class_conditional_fad_through_the_distiller():
    """condition='teacher': the distiller reads the teacher's class logits
    (teacher_context), sizes the projection discriminator from them and
    conditions both updates on the teacher's class probabilities."""
    import torch.nn.functional as F
    distiller = _distiller(distill_losses=dict(
        loss_kd_fad=dict(
            type='FeatureAdversarialLoss', student='neck', teacher='neck',
            adapter=dict(type='ChannelAdapter'), condition='teacher',
            teacher_context='head.fc_cls')))
    fad = distiller.distill_losses['loss_kd_fad']
    num_classes = distiller.teacher.head.num_classes
    assert fad.takes_context
    assert fad.discriminator.num_classes == num_classes
    distiller.train()
    optim = _optim(distiller)
    seen = []
    original = fad.discriminator.forward

    def forward(feat, cond=None):
        seen.append(cond)
        return original(feat, cond)
    fad.discriminator.forward = forward
    embed = fad.discriminator.embed.weight.detach().clone()
    log = distiller.train_step(_batch(), optim)
    assert {'loss_kd_fad', 'disc_loss', 'disc_acc'} <= set(log)
    # one student call, then real and fake in the discriminator update
    assert len(seen) == 3
    teacher_logits = distiller._teacher_recorders[
        distiller._terms[0].context[0].key].record.tensor
    expected = F.softmax(teacher_logits.float(), dim=1)
    for cond in seen:
        torch.testing.assert_close(cond, expected)
    assert not torch.equal(embed, fad.discriminator.embed.weight)
    with pytest.raises(ValueError, match='teacher_context'):
        _distiller(distill_losses=dict(
            loss_kd_fad=dict(
                type='FeatureAdversarialLoss', student='neck',
                teacher='neck', adapter=dict(type='ChannelAdapter'),
                condition='teacher')))


def test_adaptive_weight_holds_the_gradient_ratio():
    """target_grad_ratio: each student step the adversarial part's weight
    is set so that its gradient at the student's feature is that share of
    the task gradient (grad_ratio_adv then reads the target); the weight
    is logged, bounded by max_loss_weight, and the update uses it."""
    distiller = _distiller(grad_ratio_interval=1, distill_losses=dict(
        loss_kd_fad=dict(
            type='FeatureAdversarialLoss', student='neck', teacher='neck',
            adapter=dict(type='ChannelAdapter', act=False),
            normalize='standardize', r1_gamma=1.0,
            discriminator=dict(type='FeatureDiscriminator'),
            target_grad_ratio=0.2)))
    fad = distiller.distill_losses['loss_kd_fad']
    distiller.train()
    optim = _optim(distiller, lr=1e-3)
    logs = [distiller.train_step(_batch(), optim) for _ in range(3)]
    for log in logs:
        assert log['grad_ratio_adv'].item() == pytest.approx(0.2, rel=1e-4)
        # the summed term is the adapted one (no paired part here)
        assert log['loss_kd_fad'].item() == pytest.approx(
            log['kd_fad.adv'].item(), rel=1e-5)
    # direct computation: weight = target * |g_task| / |g_raw|
    data = distiller.data_preprocessor(_batch(), True)
    distiller.discriminator_modules()['loss_kd_fad'].requires_grad_(False)
    losses = distiller(**data, mode='loss')
    feat = distiller._student_recorders[
        distiller._terms[0].student.key].record.tensor
    task = sum(v for k, v in losses.items() if k.startswith('loss_cls'))
    g_task, = torch.autograd.grad(task, feat, retain_graph=True)
    g_raw, = torch.autograd.grad(fad.parts['adv'] / fad.loss_weight, feat,
                                 retain_graph=True)
    raw = losses['loss_kd_fad'].item() / fad.loss_weight
    distiller.adapt_weights(losses)
    expected = 0.2 * g_task.norm() / g_raw.norm()
    assert losses['kd_fad.adv_weight'].item() == pytest.approx(
        expected.item(), rel=1e-5)
    assert losses['loss_kd_fad'].item() == pytest.approx(
        expected.item() * raw, rel=1e-5)
    # bounded
    fad.max_loss_weight = 1e-6
    losses = distiller(**data, mode='loss')
    distiller.adapt_weights(losses)
    assert losses['kd_fad.adv_weight'].item() == pytest.approx(1e-6)
    from mmdet3d.registry import MODELS
    with pytest.raises(ValueError, match='target_grad_ratio'):
        MODELS.build(dict(type='FeatureAdversarialLoss', in_channels=8,
                          target_grad_ratio=-0.1))
    with pytest.raises(ValueError, match='loss_weight > 0'):
        MODELS.build(dict(type='FeatureAdversarialLoss', in_channels=8,
                          target_grad_ratio=0.1, loss_weight=0.))
