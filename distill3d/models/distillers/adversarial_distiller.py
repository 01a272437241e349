# Copyright (c) distill3d contributors. All rights reserved.
"""Distiller with adversarial terms: alternating student / discriminator
updates (FAD)."""
from collections import OrderedDict
from typing import Dict, Optional, Tuple, Union

import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import Tensor, nn

from mmdet3d.registry import MODELS
from ..recorders import RecordSpec, find_module, infer_out_channels
from .distiller3d import Distiller3D


@MODELS.register_module()
class AdversarialDistiller3D(Distiller3D):
    """:class:`Distiller3D` whose adversarial terms own discriminators.

    A ``loss_kd_*`` term whose loss class sets ``is_adversarial = True``
    (:class:`FeatureAdversarialLoss`) holds a discriminator. One train
    step (``train_step``), with the ``OptimWrapperDict`` built by
    ``AdversarialOptimWrapperConstructor``:

    1. student update (wrapper ``'student'``: student + adapters + any
       other trainable KD part): teacher forward (no grad), student forward
       with its own losses and every ``loss_kd_*`` term, the
       discriminators' parameters frozen (``requires_grad=False``) so that
       the adversarial gradient reaches the student through them without
       touching them; backward and step;
    2. discriminator update (wrapper ``'discriminator'``), ``disc_steps``
       times: the discriminator loss on the detached teacher (real) and
       adapted student (fake) features of step 1; backward and step.

    Distributed training: set ``model_wrapper_cfg =
    dict(type='AdversarialDistillerDDP')`` (the FAD base config does); each
    update then averages its optimizer's gradients over the ranks.

    The teacher is frozen and in no optimizer. Validation, test and
    ``predict`` run the student only; the exported student holds only
    ``student.*`` weights (discriminators live under
    ``distill_losses.<name>.discriminator``).

    Logged per step, besides the student's losses and ``loss_kd_*``:
    ``disc_loss``, ``disc_real`` / ``disc_fake`` (mean logits) and
    ``disc_acc`` (share of teacher / student features the discriminator
    tells apart), suffixed ``_<term>`` when there are several adversarial
    terms.

    Every ``grad_ratio_interval`` steps it also logs, per adversarial
    term, ``grad_ratio_<part>``: the norm of the gradient of the term's
    weighted part (``adv``, and ``paired`` when on) with respect to the
    student's recorded feature (before the adapter) divided by the norm of
    the student's task losses' gradient there (no extra update; one
    backward pass per part on the retained graph).

    A term with ``target_grad_ratio > 0`` gets an adaptive weight: every
    student step, before the update, the weight of its ``adv`` part is set
    to the one that makes that ratio equal ``target_grad_ratio`` (the same
    two gradient norms, detached; at most the term's ``max_loss_weight``)
    and logged as ``<term>.adv_weight``. The term's scale
    (``term_scale``: warm-up, stop) still multiplies the term. Under DDP
    each rank sets its own weight from its own batch before the gradients
    are averaged.

    Args:
        disc_steps (int): Discriminator updates per student update (on the
            same features). Defaults to 1.
        grad_ratio_interval (int): Log the gradient ratios every this many
            train steps (first step included); 0 disables it. Defaults to
            50.
        **kwargs: :class:`Distiller3D` arguments.
    """

    def __init__(self, disc_steps: int = 1, grad_ratio_interval: int = 50,
                 **kwargs) -> None:
        if disc_steps < 0:
            raise ValueError(f'disc_steps must be >= 0, got {disc_steps}')
        if grad_ratio_interval < 0:
            raise ValueError('grad_ratio_interval must be >= 0, got '
                             f'{grad_ratio_interval}')
        self.disc_steps = disc_steps
        self.grad_ratio_interval = grad_ratio_interval
        self._steps = 0
        super().__init__(**kwargs)
        if getattr(self, 'teacher_mode', 'frozen') != 'frozen':
            raise ValueError('AdversarialDistiller3D needs a separate, '
                             "frozen teacher (teacher_mode='frozen')")
        if not self.adversarial_terms():
            raise ValueError(
                'AdversarialDistiller3D needs at least one adversarial '
                "distill_losses term (e.g. type='FeatureAdversarialLoss'); "
                'use Distiller3D otherwise')

    def _add_term(self, name: str, cfg: dict) -> None:
        """Fill in an adversarial loss's ``in_channels`` (teacher width)."""
        loss_type = cfg.get('type')
        loss_cls = MODELS.get(loss_type) if isinstance(loss_type, str) \
            else loss_type
        if getattr(loss_cls, 'is_adversarial', False) and \
                'teacher' in cfg and cfg.get('in_channels') is None:
            cfg = dict(cfg, in_channels=self._teacher_width(
                name, cfg['teacher'], 'width', 'in_channels'))
        if getattr(loss_cls, 'is_adversarial', False) and \
                cfg.get('condition', 'none') != 'none':
            cfg = dict(cfg, discriminator=self._conditional_discriminator(
                name, cfg))
        super()._add_term(name, cfg)

    def _conditional_discriminator(self, name: str, cfg: dict) -> dict:
        """The discriminator config of a class-conditional term with
        ``num_classes`` read from its ``teacher_context`` (the teacher's
        class logits) when not set."""
        disc = dict(cfg.get('discriminator')
                    or dict(type='FeatureDiscriminator'))
        if disc.get('num_classes'):
            return disc
        context = cfg.get('teacher_context')
        if isinstance(context, (str, dict)):
            context = [context]
        if not context or len(context) != 1:
            raise ValueError(
                f'distill_losses.{name}: condition={cfg["condition"]!r} needs '
                "teacher_context='<the teacher's class logits module>' (e.g. "
                "'head.fc_cls'), got " + repr(cfg.get('teacher_context')))
        return dict(disc, num_classes=self._teacher_width(
            name, context[0], 'classes', 'discriminator.num_classes'))

    def _teacher_width(self, name: str, module_spec, what: str,
                       key: str) -> int:
        """Output channels of a teacher module named in a term's config."""
        spec = RecordSpec(module_spec)
        module = find_module(self.teacher, spec.module, 'teacher')
        channels = infer_out_channels(module, spec.output)
        if channels is None:
            raise ValueError(
                f'distill_losses.{name}: cannot infer the {what} of teacher '
                f'{spec.module!r}; set {key}')
        return channels

    def adversarial_terms(self) -> Dict[str, nn.Module]:
        """``{term name: loss}`` of the adversarial terms."""
        return OrderedDict(
            (name, loss) for name, loss in self.distill_losses.items()
            if getattr(loss, 'is_adversarial', False))

    def discriminator_modules(self) -> Dict[str, nn.Module]:
        """``{term name: discriminator}`` (what the 'discriminator'
        optimizer updates)."""
        return OrderedDict((name, loss.discriminator)
                           for name, loss in self.adversarial_terms().items())

    @staticmethod
    def _wrappers(optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                  ) -> Dict[str, OptimWrapper]:
        if not isinstance(optim_wrapper, OptimWrapperDict) or \
                {'student', 'discriminator'} - set(optim_wrapper.keys()):
            raise TypeError(
                'AdversarialDistiller3D.train_step needs an OptimWrapperDict '
                "with 'student' and 'discriminator'; configure optim_wrapper"
                " = dict(constructor='AdversarialOptimWrapperConstructor', "
                'student=dict(...), discriminator=dict(...)), got '
                f'{type(optim_wrapper).__name__}')
        return dict(student=optim_wrapper['student'],
                    discriminator=optim_wrapper['discriminator'])

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """Student update, then discriminator update(s).

        Args:
            data (dict): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): Wrappers 'student' and
                'discriminator'.

        Returns:
            dict[str, Tensor]: Logged values.
        """
        wrappers = self._wrappers(optim_wrapper)
        terms = self.adversarial_terms()
        discriminators = list(self.discriminator_modules().values())
        for loss in terms.values():
            loss.clear()
        student_wrapper = wrappers['student']
        with student_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            for disc in discriminators:
                disc.requires_grad_(False)
            try:
                losses = self._run_forward(data, mode='loss')
            finally:
                for disc in discriminators:
                    disc.requires_grad_(True)
        self.adapt_weights(losses)
        parsed, log_vars = self.parse_losses(losses)
        if self.grad_ratio_interval and \
                self._steps % self.grad_ratio_interval == 0:
            log_vars.update(self.gradient_ratios(losses))
        self._steps += 1
        _update_params(student_wrapper, parsed)
        log_vars.update(
            self._update_discriminators(wrappers['discriminator'], terms))
        for loss in terms.values():
            loss.clear()
        return log_vars

    def gradient_ratios(self, losses: Dict[str, Tensor]
                        ) -> Dict[str, Tensor]:
        """Adversarial / task gradient norms at the student's feature.

        Args:
            losses (dict): This step's losses, graph kept (before the
                update).

        Returns:
            dict[str, Tensor]: ``grad_ratio_<part>`` (suffixed with the
            term when there are several adversarial terms).
        """
        terms = {n: t for n, t in self.adversarial_terms().items()
                 if getattr(t, 'parts', None)}
        out: Dict[str, Tensor] = OrderedDict()
        norms = self._feature_grad_norms(losses, terms)
        for name, (task_norm, parts) in norms.items():
            suffix = '' if len(terms) == 1 else '_' + name[len('loss_kd_'):]
            for part, norm in parts.items():
                ratio = norm / task_norm.clamp_min(1e-12) \
                    if task_norm is not None else norm.new_tensor(
                        float('inf'))
                out[f'grad_ratio_{part}{suffix}'] = ratio.detach()
        return out

    def adapt_weights(self, losses: Dict[str, Tensor]) -> None:
        """Set the adaptive weight of each term with ``target_grad_ratio``.

        The weight of the term's ``adv`` part becomes ``target_grad_ratio *
        |g_task| / |g_adv / loss_weight|`` (at most ``max_loss_weight``),
        with ``g`` the gradients at the student's recorded feature; the
        term's entry in ``losses``, its ``parts['adv']`` and its logged
        ``adv`` are rescaled in place, ``<term>.adv_weight`` is added.

        Args:
            losses (dict): This step's losses, graph kept (before the
                update); changed in place.
        """
        terms = {n: t for n, t in self.adversarial_terms().items()
                 if getattr(t, 'target_grad_ratio', 0) > 0
                 and 'adv' in getattr(t, 'parts', {})
                 and self.term_scale(n) != 0}
        if not terms:
            return
        norms = self._feature_grad_norms(losses, terms, parts=('adv', ))
        for name, (task_norm, parts) in norms.items():
            loss = terms[name]
            if task_norm is None:
                continue
            adv = loss.parts['adv']
            weight = (loss.target_grad_ratio * loss.loss_weight * task_norm /
                      parts['adv'].clamp_min(1e-12)).clamp(
                          max=loss.max_loss_weight).detach()
            scale = weight / loss.loss_weight
            losses[name] = losses[name] + (scale - 1) * adv * \
                self.term_scale(name)
            loss.parts['adv'] = adv * scale
            short = name[len('loss_'):]
            loss.log_vars['adv'] = loss.parts['adv'].detach()
            losses[f'{short}.adv'] = loss.log_vars['adv']
            losses[f'{short}.adv_weight'] = weight

    def _feature_grad_norms(self, losses: Dict[str, Tensor],
                            terms: Dict[str, nn.Module],
                            parts: Optional[Tuple[str, ...]] = None
                            ) -> Dict[str, tuple]:
        """Gradient norms of the task losses and of the terms' parts at
        each term's student feature (before the adapter).

        Args:
            losses (dict): This step's losses, graph kept.
            terms (dict): ``{term name: loss}`` with ``parts``.
            parts (tuple[str], optional): Only these parts; all when None.

        Returns:
            dict[str, tuple]: ``{term name: (task norm or None, {part:
            norm})}``; empty without a task loss in the graph; a term
            whose feature is not in the graph is left out.
        """
        task = [v for k, v in losses.items()
                if 'loss' in k and not k.startswith(('loss_kd_', 'teacher_'))
                and isinstance(v, Tensor) and v.requires_grad]
        out: Dict[str, tuple] = OrderedDict()
        if not task or not terms:
            return out
        task_loss = sum(task)
        for name, loss in terms.items():
            term = next(t for t in self._terms if t.name == name)
            rec = self._student_recorders[term.student.key].record
            if rec is None or not rec.tensor.requires_grad:
                continue
            feat = rec.tensor
            g_task, = torch.autograd.grad(task_loss, feat, retain_graph=True,
                                          allow_unused=True)
            norms = {}
            for part, value in loss.parts.items():
                if parts is not None and part not in parts:
                    continue
                g, = torch.autograd.grad(value, feat, retain_graph=True,
                                         allow_unused=True)
                norms[part] = g.norm() if g is not None \
                    else feat.new_zeros(())
            out[name] = (g_task.norm() if g_task is not None else None,
                         norms)
        return out

    def _update_discriminators(self, wrapper: OptimWrapper,
                               terms: Dict[str, nn.Module]
                               ) -> Dict[str, Tensor]:
        """``disc_steps`` discriminator updates on the cached features."""
        active = {n: t for n, t in terms.items() if t.has_pair()}
        logs: Dict[str, Tensor] = OrderedDict()
        if not active:  # distillation stopped (StopDistillHook)
            return logs
        for _ in range(self.disc_steps):
            with wrapper.optim_context(self):
                total = None
                for name, loss in active.items():
                    out = loss.discriminator_loss()
                    total = out['loss'] if total is None \
                        else total + out['loss']
                    suffix = '' if len(active) == 1 else \
                        '_' + name[len('loss_kd_'):]
                    logs['disc_loss' + suffix] = out['loss'].detach()
                    logs['disc_real' + suffix] = out['real_score']
                    logs['disc_fake' + suffix] = out['fake_score']
                    logs['disc_acc' + suffix] = out['acc']
                    if 'r1' in out:
                        logs['disc_r1' + suffix] = out['r1']
            _update_params(wrapper, total)
        return logs


def _update_params(wrapper: OptimWrapper, loss: Tensor) -> None:
    """``wrapper.update_params(loss)``; with several ranks, the gradients
    are averaged over them between backward and step (run under
    :class:`~distill3d.engine.AdversarialDistillerDDP`)."""
    from mmengine.dist import get_world_size
    if get_world_size() == 1:
        wrapper.update_params(loss)
        return
    from ...engine.wrappers.adversarial_ddp import average_gradients
    wrapper.backward(loss)
    average_gradients(p for group in wrapper.optimizer.param_groups
                      for p in group['params'])
    wrapper.step()
    wrapper.zero_grad()
