"""Stop distillation after an epoch or iteration."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmdet3d.registry import HOOKS
from .distill_loss_weight_hook import unwrap


@HOOKS.register_module()
class StopDistillHook(Hook):
    """From ``stop_epoch`` / ``stop_iter`` on, train the student alone.

    Sets ``Distiller3D.distill_enabled = False``: the teacher forward and
    every ``loss_kd_*`` term are skipped. Re-evaluated when training is
    resumed.

    Args:
        stop_epoch (int, optional): First epoch (0-based) without KD.
        stop_iter (int, optional): First iteration (0-based) without KD.
    """

    priority = 'NORMAL'

    def __init__(self,
                 stop_epoch: Optional[int] = None,
                 stop_iter: Optional[int] = None):
        if (stop_epoch is None) == (stop_iter is None):
            raise ValueError('give exactly one of stop_epoch and stop_iter')
        self.stop_epoch = stop_epoch
        self.stop_iter = stop_iter

    def _update(self, runner) -> None:
        model = unwrap(runner.model)
        stop = (self.stop_epoch is not None
                and runner.epoch >= self.stop_epoch) or (
                    self.stop_iter is not None
                    and runner.iter >= self.stop_iter)
        if stop and model.distill_enabled:
            print_log(
                f'StopDistillHook: distillation stops at epoch '
                f'{runner.epoch}, iteration {runner.iter}', logger='current')
        model.distill_enabled = not stop

    def before_train_epoch(self, runner) -> None:
        self._update(runner)

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._update(runner)
