"""Engine parts of distill3d: the distillation runner and hooks."""
from .hooks import DistillLossWeightHook, StopDistillHook
from .runner import Distill3DRunner, build_distill_cfg

__all__ = [
    'Distill3DRunner', 'DistillLossWeightHook', 'StopDistillHook',
    'build_distill_cfg'
]
from .optimizers import AdversarialOptimWrapperConstructor  # noqa: F401
