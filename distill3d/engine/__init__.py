"""Engine parts of distill3d: the distillation runner and hooks."""
from .hooks import DistillLossWeightHook, StopDistillHook
from .runner import Distill3DRunner, build_distill_cfg, load_analysis_cfg
from .wrappers import AdversarialDistillerDDP

__all__ = [
    'AdversarialDistillerDDP', 'Distill3DRunner', 'DistillLossWeightHook',
    'StopDistillHook', 'build_distill_cfg', 'load_analysis_cfg'
]
from .optimizers import AdversarialOptimWrapperConstructor  # noqa: F401
