"""FAD loss and discriminator: the three GAN objectives, gradients."""
import pytest
import torch
import torch.nn.functional as F

from distill3d.models.losses.fad import FeatureAdversarialLoss


@pytest.mark.parametrize('gan_type', ['vanilla', 'lsgan', 'hinge'])
def test_objectives_match_formulas(gan_type):
    from distill3d.models.losses.fad import (discriminator_loss,
                                             generator_loss)
    real = torch.tensor([2.0, -0.5, 0.3])
    fake = torch.tensor([-1.0, 0.4, 1.5])
    sig = torch.sigmoid
    if gan_type == 'vanilla':
        d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
        g = -torch.log(sig(fake)).mean()
    elif gan_type == 'lsgan':
        d = 0.5 * (((real - 1)**2).mean() + (fake**2).mean())
        g = 0.5 * ((fake - 1)**2).mean()
    else:
        d = (1 - real).clamp(min=0).mean() + (1 + fake).clamp(min=0).mean()
        g = -fake.mean()
    torch.testing.assert_close(discriminator_loss(real, fake, gan_type), d)
    torch.testing.assert_close(generator_loss(fake, gan_type), g)


def test_bad_gan_type_and_missing_width():
    from distill3d.models.losses.fad import FeatureAdversarialLoss
    with pytest.raises(ValueError, match='gan_type'):
        FeatureAdversarialLoss(in_channels=8, gan_type='wgan')
    with pytest.raises(ValueError, match='in_channels'):
        FeatureAdversarialLoss()


@pytest.mark.parametrize('gan_type', ['vanilla', 'lsgan', 'hinge'])
def test_gradients_go_where_they_should(gan_type):
    """forward(): gradient to the student feature; discriminator_loss():
    gradient to the discriminator only, from the detached features."""
    from distill3d.models.losses.fad import FeatureAdversarialLoss
    torch.manual_seed(0)
    loss = FeatureAdversarialLoss(in_channels=16, gan_type=gan_type,
                                  loss_weight=0.5)
    student = torch.randn(4, 16, requires_grad=True)
    teacher = torch.randn(4, 16, requires_grad=True)
    value = loss(student, teacher)
    with torch.no_grad():
        fake = loss.discriminator(student)
    from distill3d.models.losses.fad import generator_loss
    torch.testing.assert_close(value, 0.5 * generator_loss(fake, gan_type))
    value.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None  # the teacher feature is only "real"
    loss.discriminator.zero_grad()
    student.grad = None
    out = loss.discriminator_loss()
    out['loss'].backward()
    assert student.grad is None  # detached features
    grads = [p.grad for p in loss.discriminator.parameters()]
    assert all(g is not None for g in grads)
    # (hinge: the last bias may get exactly 0 while every logit is inside
    # the margins, real and fake pulling it equally)
    assert grads[0].abs().sum() > 0
    assert 0 <= out['acc'] <= 1
    loss.clear()
    with pytest.raises(RuntimeError, match='forward'):
        loss.discriminator_loss()


def test_discriminator_learns_to_separate():
    """A few discriminator steps on fixed real / fake features raise its
    accuracy and lower its loss (vanilla GAN)."""
    from distill3d.models.losses.fad import FeatureAdversarialLoss
    torch.manual_seed(0)
    loss = FeatureAdversarialLoss(
        in_channels=8,
        discriminator=dict(type='FeatureDiscriminator',
                           hidden_channels=(16, ), spectral_norm=True))
    real = torch.randn(32, 8) + 1.
    fake = torch.randn(32, 8) - 1.
    opt = torch.optim.Adam(loss.discriminator.parameters(), lr=1e-2)
    loss(fake, real)
    first = loss.discriminator_loss()
    for _ in range(50):
        opt.zero_grad()
        out = loss.discriminator_loss()
        out['loss'].backward()
        opt.step()
    assert out['loss'] < 0.5 * first['loss']
    assert out['acc'] > 0.9
    # the student term is now large: the student is "caught"
    assert loss(fake, real) > F.softplus(torch.tensor(0.))


def _teacher_like(n=64, c=256, seed=0):
    """Non-negative max-pooled-like features with few exact zeros."""
    g = torch.Generator().manual_seed(seed)
    return torch.relu(torch.randn(n, c, generator=g) + 3)


def _zero_count_accuracy(real, fake):
    """Best accuracy of a threshold on the number of exact zeros per row
    (the trivial cue the ReLU adapter gave the discriminator)."""
    zr = (real == 0).sum(1).float()
    zf = (fake == 0).sum(1).float()
    best = 0.5
    for th in torch.cat([zr, zf]).unique():
        acc = (torch.cat([zr <= th, zf > th]).float().mean().item(),
               torch.cat([zr > th, zf <= th]).float().mean().item())
        best = max(best, *acc)
    return best


def test_linear_adapter_and_standardize_remove_the_zero_cue():
    from distill3d.models.adapters import ChannelAdapter
    torch.manual_seed(0)
    teacher = _teacher_like()
    student = torch.randn(64, 32)
    old = FeatureAdversarialLoss(in_channels=256, normalize='l2')
    new = FeatureAdversarialLoss(in_channels=256, normalize='standardize')
    relu_adapter = ChannelAdapter(32, 256, act=True)
    linear_adapter = ChannelAdapter(32, 256)
    with torch.no_grad():
        old_acc = _zero_count_accuracy(old._prep(teacher),
                                       old._prep(relu_adapter(student)))
        new_acc = _zero_count_accuracy(new._prep(teacher),
                                       new._prep(linear_adapter(student)))
        # standardised teacher features have both signs, as the linear
        # adapter's: the sign is no cue either
        neg_t = (new._prep(teacher) < 0).float().mean().item()
        neg_s = (new._prep(linear_adapter(student)) < 0).float().mean()
    assert old_acc == 1.0
    assert new_acc < 0.6
    assert 0.3 < neg_t < 0.7 and 0.3 < neg_s.item() < 0.7
    with pytest.raises(ValueError, match='normalize'):
        FeatureAdversarialLoss(in_channels=4, normalize='batch')


def test_r1_penalty_by_hand():
    """A linear discriminator D(x) = w.x + b: grad_x D = w, so R1 is
    gamma / 2 * |w|^2 on top of the GAN loss."""
    torch.manual_seed(0)
    gamma = 3.0
    loss = FeatureAdversarialLoss(
        in_channels=8, r1_gamma=gamma,
        discriminator=dict(type='FeatureDiscriminator', hidden_channels=()))
    plain = FeatureAdversarialLoss(
        in_channels=8,
        discriminator=dict(type='FeatureDiscriminator', hidden_channels=()))
    plain.discriminator.load_state_dict(loss.discriminator.state_dict())
    s, t = torch.randn(5, 8), torch.randn(5, 8)
    loss(s, t)
    plain(s, t)
    out, ref = loss.discriminator_loss(), plain.discriminator_loss()
    w = loss.discriminator.net[0].weight
    expected = 0.5 * gamma * w.pow(2).sum()
    assert out['r1'].item() == pytest.approx(expected.item(), rel=1e-5)
    assert (out['loss'] - ref['loss']).item() == pytest.approx(
        expected.item(), rel=1e-5)
    out['loss'].backward()
    assert w.grad is not None  # the penalty trains the discriminator


def test_instance_noise_only_in_training():
    torch.manual_seed(0)
    loss = FeatureAdversarialLoss(in_channels=8, instance_noise=0.5)
    s, t = torch.randn(5, 8), torch.randn(5, 8)
    loss.train()
    a, b = loss(s, t), loss(s, t)
    assert a.item() != b.item()
    loss.eval()
    assert loss(s, t).item() == loss(s, t).item()


@pytest.mark.parametrize('kind', ['mse', 'cosine'])
def test_paired_term_by_hand(kind):
    torch.manual_seed(0)
    s = torch.randn(4, 6, requires_grad=True)
    t = torch.randn(4, 6)
    loss = FeatureAdversarialLoss(in_channels=6, normalize='l2',
                                  paired_weight=2.0, paired_loss=kind)
    total = loss(s, t)
    sn, tn = F.normalize(s, dim=1), F.normalize(t, dim=1)
    expected = (sn - tn).pow(2).mean() if kind == 'mse' else \
        (1 - (sn * tn).sum(1)).mean()
    assert loss.log_vars['paired'].item() == pytest.approx(
        2 * expected.item(), rel=1e-5)
    assert total.item() == pytest.approx(
        (loss.log_vars['adv'] + loss.log_vars['paired']).item(), rel=1e-6)
    total.backward()
    assert s.grad.abs().sum() > 0


def test_projection_discriminator_by_hand():
    """D(x, y) = net(x) + y^T E h(x), h the last hidden layer; a missing or
    misshaped class vector is refused; the unconditional one ignores y."""
    from distill3d.models.losses.fad import FeatureDiscriminator
    torch.manual_seed(0)
    disc = FeatureDiscriminator(6, hidden_channels=(5, 4), num_classes=3)
    x, y = torch.randn(7, 6), torch.softmax(torch.randn(7, 3), 1)
    h = disc.net[:-1](x)
    expected = disc.net[-1](h).squeeze(-1) + ((y @ disc.embed.weight.T) *
                                              h).sum(-1)
    torch.testing.assert_close(disc(x, y), expected)
    with pytest.raises(ValueError, match='cond of shape'):
        disc(x)
    with pytest.raises(ValueError, match='cond of shape'):
        disc(x, y[:, :2])
    plain = FeatureDiscriminator(6, hidden_channels=(5, 4))
    assert plain.embed is None
    torch.testing.assert_close(plain(x, y), plain(x))
    # spectral norm wraps the class embedding too
    from torch.nn.utils import parametrize
    sn = FeatureDiscriminator(6, spectral_norm=True, num_classes=3)
    assert parametrize.is_parametrized(sn.embed)


def test_conditional_discriminator_sees_a_swapped_class():
    """Teacher features of class c and student features that are teacher
    features of another class have the same distribution over a batch: an
    unconditional discriminator cannot tell them apart, the projection
    discriminator conditioned on the teacher's class can (the per-sample
    tie of condition='teacher')."""
    gen = torch.Generator().manual_seed(0)
    num_classes, width, num = 4, 8, 256
    protos = torch.randn(num_classes, width, generator=gen) * 2
    labels = torch.arange(num) % num_classes
    logits = F.one_hot(labels, num_classes).float() * 6.

    def feats(lab):
        return protos[lab] + 0.3 * torch.randn(num, width, generator=gen)

    accs = {}
    for condition in ('none', 'teacher'):
        torch.manual_seed(0)
        disc = dict(type='FeatureDiscriminator', hidden_channels=(32, 16))
        if condition == 'teacher':
            disc['num_classes'] = num_classes
        loss = FeatureAdversarialLoss(in_channels=width, discriminator=disc,
                                      condition=condition)
        opt = torch.optim.Adam(loss.discriminator.parameters(), lr=1e-2)
        context = [logits] if condition == 'teacher' else None
        for _ in range(200):
            teacher = feats(labels)
            student = feats((labels + 1) % num_classes)  # swapped class
            loss(student, teacher, context=context)
            out = loss.discriminator_loss()
            opt.zero_grad()
            out['loss'].backward()
            opt.step()
        loss(feats((labels + 1) % num_classes), feats(labels),
             context=context)
        accs[condition] = loss.discriminator_loss()['acc'].item()
    assert accs['none'] < 0.65, accs
    assert accs['teacher'] > 0.9, accs


def test_conditional_term_needs_classes_and_one_context():
    with pytest.raises(ValueError, match='num_classes'):
        FeatureAdversarialLoss(in_channels=8, condition='teacher')
    with pytest.raises(ValueError, match='condition'):
        FeatureAdversarialLoss(in_channels=8, condition='labels')
    loss = FeatureAdversarialLoss(
        in_channels=8, condition='teacher',
        discriminator=dict(type='FeatureDiscriminator', num_classes=3))
    assert loss.takes_context
    feat = torch.randn(2, 8)
    with pytest.raises(ValueError, match='one teacher_context'):
        loss(feat, feat)
    with pytest.raises(ValueError, match='samples'):
        loss(feat, feat, context=[torch.randn(3, 3)])
