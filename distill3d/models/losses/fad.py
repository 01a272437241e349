# Copyright (c) distill3d contributors. All rights reserved.
"""FAD: feature adversarial distillation (our design; the paper, ICIP 2023,
arXiv 2306.14221, has no public code and only its abstract is used).

The teacher's global feature is the discriminator's reference ("real"),
the student's global feature, aligned to the teacher's width by the
distiller's adapter, is the generated one ("fake"). The discriminator
learns to tell them apart; the student is trained to make it score its
features as the teacher's (plus its own cross-entropy and, optionally,
logit KD). Discriminator and student are updated alternately with
separate optimizers by :class:`AdversarialDistiller3D`.

GAN objectives (``gan_type``), with ``D`` the discriminator's logit:

========== ================================== ===========================
gan_type   discriminator loss                 student (generator) loss
========== ================================== ===========================
vanilla    BCE(D(real), 1) + BCE(D(fake), 0)  BCE(D(fake), 1)
lsgan      ((D(real) - 1)^2 + D(fake)^2) / 2  (D(fake) - 1)^2 / 2
hinge      relu(1 - D(real)) + relu(1 + D(f)) -D(fake)
========== ================================== ===========================

(vanilla uses the non-saturating generator loss; every loss is the batch
mean.)

Options against a discriminator that wins on a trivial cue or gives the
student no useful gradient (issue "FAD that measurably helps"):

- ``normalize``: 'l2' (unit vectors), 'standardize' (per-sample zero mean,
  unit variance, then unit norm: the teacher's non-negative max-pooled
  features and an adapter's output then share sign and zero patterns, so
  counting zeros no longer separates them) or 'none';
- ``r1_gamma``: R1 penalty ``gamma / 2 * |grad_x D(x_real)|^2`` on the
  discriminator (Mescheder et al. 2018) instead of spectral norm;
- ``instance_noise``: Gaussian noise of this std added to both features
  the discriminator sees (Sonderby et al. 2017);
- ``paired_weight``: a per-sample term tying the student's feature for
  shape i to the teacher's for shape i (``paired_loss`` 'mse' or 'cosine'
  on the normalised features), as MEAL's similarity loss or AFD's KL;
- ``condition='teacher'``: a projection discriminator conditioned on the
  teacher's class probabilities for the sample (as Xu et al.'s
  conditional discriminator on logits), another per-sample tie;
- ``target_grad_ratio``: an adaptive weight (the adaptive GAN weight of
  Esser et al., CVPR 2021, "Taming Transformers", there taken at the
  decoder's last layer, here at the student's recorded feature): each
  student step the distiller sets the adversarial part's weight so that
  its gradient norm at the student's feature is this share of the task
  losses' gradient norm there. A fixed ``loss_weight`` cannot hold that
  share: it moves with the discriminator's strength (measured 0.003 to
  47 across weights and R1 gammas on the FAD study).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdet3d.registry import MODELS
from .utils import fp32

GAN_TYPES = ('vanilla', 'lsgan', 'hinge')
NORMALIZATIONS = ('none', 'l2', 'standardize')
PAIRED_LOSSES = ('mse', 'cosine')
CONDITIONS = ('none', 'teacher')


@MODELS.register_module()
class FeatureDiscriminator(nn.Module):
    """MLP discriminator on a global feature, optionally class-conditional.

    Linear -> LeakyReLU(0.2) per hidden layer, then one logit. Spectral
    normalisation (optional) bounds its Lipschitz constant. With
    ``num_classes`` it is a projection discriminator (Miyato & Koyama,
    ICLR 2018): ``D(x, y) = w^T h(x) + b + y^T E h(x)``, with ``h`` the last
    hidden layer and ``y`` a (soft) class vector, e.g. the teacher's class
    probabilities for the same sample. It then judges whether a feature is
    the teacher's *for that class*, not only whether it looks like some
    teacher feature.

    Args:
        in_channels (int): Feature width (the teacher's).
        hidden_channels (Sequence[int]): Hidden widths. Defaults to
            (256, 64).
        spectral_norm (bool): Spectral-normalise the linear layers (the
            class embedding included). Defaults to False.
        num_classes (int): Classes of the conditioning vector; 0 for an
            unconditional discriminator. Defaults to 0.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: Sequence[int] = (256, 64),
                 spectral_norm: bool = False,
                 num_classes: int = 0) -> None:
        super().__init__()
        if num_classes < 0:
            raise ValueError(f'num_classes must be >= 0, got {num_classes}')
        self.in_channels = in_channels
        self.num_classes = num_classes
        layers = []
        prev = in_channels
        wrap = nn.utils.parametrizations.spectral_norm if spectral_norm \
            else (lambda m: m)
        for width in hidden_channels:
            layers += [wrap(nn.Linear(prev, width)),
                       nn.LeakyReLU(0.2, inplace=True)]
            prev = width
        layers.append(wrap(nn.Linear(prev, 1)))
        self.net = nn.Sequential(*layers)
        self.embed = wrap(nn.Linear(num_classes, prev, bias=False)) \
            if num_classes else None

    def forward(self, feat: Tensor, cond: Optional[Tensor] = None) -> Tensor:
        """Logits.

        Args:
            feat (Tensor): (B, in_channels) features.
            cond (Tensor, optional): (B, num_classes) class vectors (one-hot
                or probabilities); required when ``num_classes`` > 0,
                ignored otherwise.

        Returns:
            Tensor: (B, ) logits ("real" when large).
        """
        if self.embed is None:
            return self.net(feat).squeeze(-1)
        if cond is None or cond.shape != (feat.shape[0], self.num_classes):
            got = None if cond is None else tuple(cond.shape)
            raise ValueError(
                'FeatureDiscriminator with num_classes='
                f'{self.num_classes} needs cond of shape '
                f'({feat.shape[0]}, {self.num_classes}), got {got}')
        hidden = self.net[:-1](feat)
        proj = (self.embed(cond.to(hidden.dtype)) * hidden).sum(-1)
        return self.net[-1](hidden).squeeze(-1) + proj


def discriminator_loss(real: Tensor, fake: Tensor, gan_type: str) -> Tensor:
    """Discriminator objective on its logits.

    Args:
        real (Tensor): (B, ) logits of teacher features.
        fake (Tensor): (B, ) logits of (detached) student features.
        gan_type (str): One of :data:`GAN_TYPES`.

    Returns:
        Tensor: Scalar loss.
    """
    if gan_type == 'vanilla':
        return (F.binary_cross_entropy_with_logits(real,
                                                   torch.ones_like(real)) +
                F.binary_cross_entropy_with_logits(fake,
                                                   torch.zeros_like(fake)))
    if gan_type == 'lsgan':
        return 0.5 * (((real - 1)**2).mean() + (fake**2).mean())
    if gan_type == 'hinge':
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    raise ValueError(f'gan_type must be one of {GAN_TYPES}, got {gan_type!r}')


def generator_loss(fake: Tensor, gan_type: str) -> Tensor:
    """Student objective on the discriminator's logits of its features.

    Args:
        fake (Tensor): (B, ) logits of student features.
        gan_type (str): One of :data:`GAN_TYPES`.

    Returns:
        Tensor: Scalar loss.
    """
    if gan_type == 'vanilla':
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    if gan_type == 'lsgan':
        return 0.5 * ((fake - 1)**2).mean()
    if gan_type == 'hinge':
        return -fake.mean()
    raise ValueError(f'gan_type must be one of {GAN_TYPES}, got {gan_type!r}')


@MODELS.register_module()
class FeatureAdversarialLoss(nn.Module):
    """FAD term: the student's adversarial loss, with its discriminator.

    As a ``loss_kd_*`` term of a distiller it receives the student's
    feature after the adapter and the teacher's feature, both (B, C), and
    returns ``loss_weight * generator_loss``. It keeps detached copies of
    both for the discriminator update that follows in the same train step
    (:meth:`discriminator_loss`). The discriminator is a submodule of this
    loss, so it belongs to the distiller (``distill_losses.<name>.
    discriminator``), never to the student, and is optimised by the
    distiller's ``discriminator`` optimizer only.

    Args:
        in_channels (int): Teacher feature width (the distiller fills it
            in from the teacher module when omitted).
        gan_type (str): 'vanilla', 'lsgan' or 'hinge'. Defaults to
            'vanilla'.
        loss_weight (float): Weight of the student's adversarial term.
            Defaults to 1.0.
        disc_loss_weight (float): Weight of the discriminator loss.
            Defaults to 1.0.
        discriminator (dict, optional): Discriminator config; defaults to
            ``FeatureDiscriminator`` with ``in_channels``.
        normalize (bool | str): How both features are normalised before
            the discriminator (and the paired term): 'l2' (or True; it
            then judges directions, not norms), 'standardize' (per-sample
            zero mean and unit variance, then unit norm) or 'none' (or
            False). Defaults to 'none'.
        r1_gamma (float): R1 penalty weight on the teacher (real) features
            in the discriminator loss; 0 disables it. Defaults to 0.
        instance_noise (float): Std of Gaussian noise added to both
            features the discriminator sees (student and discriminator
            updates alike); 0 disables it. Defaults to 0.
        paired_weight (float): Weight of the per-sample term between the
            normalised student and teacher features of the same sample; 0
            disables it. Defaults to 0.
        paired_loss (str): 'mse' (mean over channels) or 'cosine'
            (1 - cosine). Defaults to 'mse'.
        condition (str): 'none', or 'teacher': the discriminator is a
            projection discriminator conditioned on the teacher's class
            probabilities for each sample (softmax of the term's
            ``teacher_context`` logits, e.g. ``head.fc_cls``; the distiller
            fills in ``discriminator.num_classes`` from their width), so
            a student feature must look like the teacher's for that
            sample's class. Defaults to 'none'.
        target_grad_ratio (float): If > 0, :class:`AdversarialDistiller3D`
            replaces ``loss_weight`` in every student step by the weight
            that makes the adversarial part's gradient norm at the
            student's feature (before the adapter) ``target_grad_ratio``
            times the task losses' (detached, at most ``max_loss_weight``;
            logged as ``<term>.adv_weight``). 0 keeps ``loss_weight``
            fixed. Defaults to 0.
        max_loss_weight (float): Upper bound of the adaptive weight (a
            discriminator whose gradient vanishes must not get an
            unbounded weight). Defaults to 1e4.
    """

    #: the distiller alternates student and discriminator updates
    is_adversarial = True

    def __init__(self,
                 in_channels: Optional[int] = None,
                 gan_type: str = 'vanilla',
                 loss_weight: float = 1.0,
                 disc_loss_weight: float = 1.0,
                 discriminator: Optional[dict] = None,
                 normalize: Union[bool, str] = 'none',
                 r1_gamma: float = 0.,
                 instance_noise: float = 0.,
                 paired_weight: float = 0.,
                 paired_loss: str = 'mse',
                 condition: str = 'none',
                 target_grad_ratio: float = 0.,
                 max_loss_weight: float = 1e4) -> None:
        super().__init__()
        if condition not in CONDITIONS:
            raise ValueError(f'condition must be one of {CONDITIONS}, got '
                             f'{condition!r}')
        if gan_type not in GAN_TYPES:
            raise ValueError(f'gan_type must be one of {GAN_TYPES}, got '
                             f'{gan_type!r}')
        if isinstance(normalize, bool):
            normalize = 'l2' if normalize else 'none'
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'normalize must be one of {NORMALIZATIONS} or '
                             f'a bool, got {normalize!r}')
        if paired_loss not in PAIRED_LOSSES:
            raise ValueError(f'paired_loss must be one of {PAIRED_LOSSES}, '
                             f'got {paired_loss!r}')
        if min(r1_gamma, instance_noise, paired_weight,
               target_grad_ratio) < 0:
            raise ValueError('r1_gamma, instance_noise, paired_weight and '
                             'target_grad_ratio must be >= 0')
        if target_grad_ratio > 0 and not (loss_weight > 0 and
                                          max_loss_weight > 0):
            raise ValueError('target_grad_ratio needs loss_weight > 0 and '
                             'max_loss_weight > 0 (the adaptive weight '
                             'rescales the weighted adversarial part)')
        disc = dict(discriminator or dict(type='FeatureDiscriminator'))
        if in_channels is None and 'in_channels' not in disc:
            raise ValueError('FeatureAdversarialLoss needs in_channels (the '
                             "teacher feature width) or discriminator."
                             'in_channels')
        disc.setdefault('in_channels', in_channels)
        self.gan_type = gan_type
        self.loss_weight = loss_weight
        self.disc_loss_weight = disc_loss_weight
        self.normalize = normalize
        self.r1_gamma = r1_gamma
        self.instance_noise = instance_noise
        self.paired_weight = paired_weight
        self.paired_loss = paired_loss
        self.condition = condition
        self.target_grad_ratio = target_grad_ratio
        self.max_loss_weight = max_loss_weight
        #: a conditional term reads the teacher's logits (teacher_context)
        self.takes_context = condition != 'none'
        self.discriminator = MODELS.build(disc)
        if self.takes_context and \
                not getattr(self.discriminator, 'num_classes', 0):
            raise ValueError(
                "FeatureAdversarialLoss(condition='teacher') needs a "
                'class-conditional discriminator: set discriminator.'
                'num_classes (the distiller fills it in from '
                'teacher_context)')
        self._pair: Optional[Tuple[Tensor, Tensor]] = None
        self._cond: Optional[Tensor] = None
        #: the last student step's terms, logged by the distiller
        self.log_vars: Dict[str, Tensor] = {}
        self.parts: Dict[str, Tensor] = {}

    def _prep(self, feat: Tensor) -> Tensor:
        """(B, C) features as the discriminator and the paired term see
        them (normalised; no noise)."""
        feat = feat.float().flatten(1)
        if self.normalize == 'standardize':
            feat = feat - feat.mean(dim=1, keepdim=True)
            return F.normalize(feat, dim=1)
        return F.normalize(feat, dim=1) if self.normalize == 'l2' else feat

    def _noisy(self, feat: Tensor) -> Tensor:
        if self.instance_noise > 0 and self.training:
            return feat + self.instance_noise * torch.randn_like(feat)
        return feat

    def paired(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Per-sample term between normalised features (unweighted)."""
        s, t = self._prep(student), self._prep(teacher.detach())
        if self.paired_loss == 'cosine':
            return (1 - F.cosine_similarity(s, t, dim=1)).mean()
        return (s - t).pow(2).mean()

    def _condition(self, context: Optional[List[Tensor]],
                   batch: int) -> Optional[Tensor]:
        """(B, K) teacher class probabilities, or None (unconditional)."""
        if not self.takes_context:
            return None
        if not context or len(context) != 1:
            raise ValueError(
                "FeatureAdversarialLoss(condition='teacher') needs exactly "
                'one teacher_context module (the class logits), got '
                f'{0 if not context else len(context)}')
        logits = context[0].detach().float().flatten(1)
        if logits.shape[0] != batch:
            raise ValueError(f'teacher_context gives {logits.shape[0]} '
                             f'samples, the features {batch}')
        return logits.softmax(dim=1)

    @fp32
    def forward(self, student: Tensor, teacher: Tensor,
                context: Optional[List[Tensor]] = None) -> Tensor:
        """Student adversarial loss.

        Args:
            student (Tensor): (B, C) student feature after the adapter.
            teacher (Tensor): (B, C) teacher feature.
            context (list[Tensor], optional): With ``condition='teacher'``,
                the teacher's (B, K) class logits.

        Returns:
            Tensor: Weighted scalar loss (gradients reach the student
            through the discriminator; the distiller freezes the
            discriminator's parameters during this update).
        """
        if student.shape != teacher.shape:
            raise ValueError(f'FeatureAdversarialLoss: student feature '
                             f'{tuple(student.shape)} and teacher feature '
                             f'{tuple(teacher.shape)} differ (adapter?)')
        self._pair = (student.detach(), teacher.detach())
        self._cond = self._condition(context, student.shape[0])
        fake = self._disc(self._noisy(self._prep(student)))
        adv = self.loss_weight * generator_loss(fake, self.gan_type)
        self.log_vars = dict(adv=adv.detach())
        #: the step's weighted parts, in the graph (gradient-ratio logging)
        self.parts = dict(adv=adv)
        if self.paired_weight > 0:
            paired = self.paired_weight * self.paired(student, teacher)
            self.log_vars['paired'] = paired.detach()
            self.parts['paired'] = paired
            return adv + paired
        return adv

    def _disc(self, feat: Tensor) -> Tensor:
        """Discriminator logits, conditioned when the term is."""
        if self._cond is None:
            return self.discriminator(feat)
        return self.discriminator(feat, self._cond)

    def has_pair(self) -> bool:
        """Whether features of a student step wait for the discriminator."""
        return self._pair is not None

    def discriminator_loss(self) -> Dict[str, Tensor]:
        """Discriminator loss on the features of the last student step.

        Returns:
            dict[str, Tensor]: ``loss`` (weighted scalar, backpropagates
            into the discriminator only), ``real_score`` / ``fake_score``
            (mean logits) and ``acc`` (share of real / fake told apart at
            logit 0), the last three detached for logging.
        """
        if self._pair is None:
            raise RuntimeError('discriminator_loss() needs a forward() of '
                               'this loss in the same step first')
        fake_feat, real_feat = self._pair
        real_in = self._noisy(self._prep(real_feat))
        if self.r1_gamma > 0:
            real_in = real_in.detach().requires_grad_(True)
        real = self._disc(real_in)
        fake = self._disc(self._noisy(self._prep(fake_feat)))
        loss = discriminator_loss(real, fake, self.gan_type)
        out = {}
        if self.r1_gamma > 0:
            grad, = torch.autograd.grad(real.sum(), real_in,
                                        create_graph=True)
            r1 = 0.5 * self.r1_gamma * grad.pow(2).sum(dim=1).mean()
            loss = loss + r1
            out['r1'] = r1.detach()
        acc = torch.cat([real > 0, fake < 0]).float().mean()
        out.update(loss=self.disc_loss_weight * loss,
                   real_score=real.detach().mean(),
                   fake_score=fake.detach().mean(), acc=acc.detach())
        return out

    def clear(self) -> None:
        """Forget the cached features."""
        self._pair = None
        self._cond = None
        self.parts = {}
