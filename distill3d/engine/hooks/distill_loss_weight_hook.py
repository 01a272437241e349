"""Schedule of the weight of every ``loss_kd_*`` term."""
import math
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdet3d.registry import HOOKS


def unwrap(model):
    """The distiller inside a DDP / model wrapper."""
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class DistillLossWeightHook(Hook):
    """Warm-up and decay of the KD loss weights.

    The scale multiplies every ``loss_kd_*`` term (``Distiller3D.
    kd_weight_scale``): linear from ``warmup_ratio`` to 1 over the first
    ``warmup_iters`` iterations, then 1, then, with ``decay``, down to
    ``min_scale`` between ``decay_begin`` and ``decay_end`` (iterations, or
    epochs with ``by_epoch=True``; ``decay_end`` defaults to the end of
    training). The scale is logged as ``kd_weight_scale``.

    With ``terms`` the schedule applies to those terms only (e.g.
    ``['loss_kd_affinity']``), through the distiller's per-term scale
    ``kd_term_scale``; the other terms keep their weight, and the scale is
    logged as ``kd_weight_scale.<term>``. With ``begin_iter`` the scale is
    0 before that iteration and the warm-up starts there: a term that
    harms an untrained student can wait until the student has learnt
    something (e.g. M2SKD's affinity on a fresh student's logits, see
    projects/M2SKD/README.md).

    Args:
        warmup_iters (int): Warm-up iterations. Defaults to 0.
        warmup_ratio (float): Scale at iteration 0. Defaults to 0.
        decay (str, optional): None, 'linear' or 'cosine'.
        decay_begin (int): Start of the decay. Defaults to 0.
        decay_end (int, optional): End of the decay.
        min_scale (float): Scale at the end of the decay. Defaults to 0.
        by_epoch (bool): Decay bounds in epochs. Defaults to False.
        terms (Sequence[str], optional): Schedule only these
            ``loss_kd_*`` terms. Defaults to None (every term, through
            ``kd_weight_scale``).
        begin_iter (int): Iteration before which the scale is 0; the
            warm-up starts there. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self,
                 warmup_iters: int = 0,
                 warmup_ratio: float = 0.,
                 decay: Optional[str] = None,
                 decay_begin: int = 0,
                 decay_end: Optional[int] = None,
                 min_scale: float = 0.,
                 by_epoch: bool = False,
                 terms: Optional[Sequence[str]] = None,
                 begin_iter: int = 0):
        if decay not in (None, 'linear', 'cosine'):
            raise ValueError("decay must be None, 'linear' or 'cosine', got "
                             f'{decay!r}')
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio
        self.decay = decay
        self.decay_begin = decay_begin
        self.decay_end = decay_end
        self.min_scale = min_scale
        self.by_epoch = by_epoch
        self.terms = None if terms is None else [str(t) for t in terms]
        if begin_iter < 0:
            raise ValueError(f'begin_iter must be >= 0, got {begin_iter}')
        self.begin_iter = begin_iter

    def scale_at(self, it: int, epoch: int, max_iters: int,
                 max_epochs: int, iters_per_epoch: int) -> float:
        """The scale at an iteration (0-based)."""
        scale = 1.0
        if it < self.begin_iter:
            return 0.0
        since = it - self.begin_iter
        if self.warmup_iters > 0 and since < self.warmup_iters:
            frac = since / self.warmup_iters
            scale = self.warmup_ratio + (1 - self.warmup_ratio) * frac
        if self.decay is None:
            return scale
        if self.by_epoch:
            now = epoch + (it % iters_per_epoch) / max(iters_per_epoch, 1)
            end = self.decay_end if self.decay_end is not None \
                else max_epochs
        else:
            now = it
            end = self.decay_end if self.decay_end is not None \
                else max_iters
        if now <= self.decay_begin:
            return scale
        frac = min(1.0, (now - self.decay_begin) /
                   max(end - self.decay_begin, 1e-12))
        if self.decay == 'linear':
            factor = 1 - frac
        else:
            factor = 0.5 * (1 + math.cos(math.pi * frac))
        return scale * (self.min_scale + (1 - self.min_scale) * factor)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        loop = runner.train_loop
        per_epoch = len(loop.dataloader) if hasattr(loop, 'dataloader') \
            else 1
        scale = self.scale_at(runner.iter, runner.epoch, runner.max_iters,
                              runner.max_epochs or 1, per_epoch)
        model = unwrap(runner.model)
        if self.terms is None:
            model.kd_weight_scale = scale
            runner.message_hub.update_scalar('train/kd_weight_scale', scale)
            return
        known = getattr(model, 'distill_losses', {})
        for name in self.terms:
            if name not in known:
                raise KeyError(
                    f'DistillLossWeightHook: terms names {name!r}, which is '
                    f'not a distillation term of the model (its terms: '
                    f'{sorted(known)})')
            model.kd_term_scale[name] = scale
            runner.message_hub.update_scalar(
                f'train/kd_weight_scale.{name}', scale)
