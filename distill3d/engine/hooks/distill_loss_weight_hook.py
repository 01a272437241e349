"""Schedule of the weight of every ``loss_kd_*`` term."""
import math
from typing import Optional

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

    Args:
        warmup_iters (int): Warm-up iterations. Defaults to 0.
        warmup_ratio (float): Scale at iteration 0. Defaults to 0.
        decay (str, optional): None, 'linear' or 'cosine'.
        decay_begin (int): Start of the decay. Defaults to 0.
        decay_end (int, optional): End of the decay.
        min_scale (float): Scale at the end of the decay. Defaults to 0.
        by_epoch (bool): Decay bounds in epochs. Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 warmup_iters: int = 0,
                 warmup_ratio: float = 0.,
                 decay: Optional[str] = None,
                 decay_begin: int = 0,
                 decay_end: Optional[int] = None,
                 min_scale: float = 0.,
                 by_epoch: bool = False):
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

    def scale_at(self, it: int, epoch: int, max_iters: int,
                 max_epochs: int, iters_per_epoch: int) -> float:
        """The scale at an iteration (0-based)."""
        scale = 1.0
        if self.warmup_iters > 0 and it < self.warmup_iters:
            frac = it / self.warmup_iters
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
        unwrap(runner.model).kd_weight_scale = scale
        runner.message_hub.update_scalar('train/kd_weight_scale', scale)
