"""FAD loss and discriminator: the three GAN objectives, gradients."""
import pytest
import torch
import torch.nn.functional as F


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
