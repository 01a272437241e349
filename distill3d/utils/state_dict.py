"""Compare a checkpoint's state dict with a model's; load a student."""
from typing import List, Mapping, NamedTuple

from torch import Tensor, nn

from .safe_globals import load_weights_only


class StateDictMismatch(NamedTuple):
    """Keys of a state dict that do not fit a model."""
    missing: List[str]
    unexpected: List[str]
    shape: List[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shape)

    def describe(self, limit: int = 5) -> str:
        """Counts and the first ``limit`` keys of each kind."""
        return (f'{len(self.missing)} missing keys {self.missing[:limit]}, '
                f'{len(self.unexpected)} unexpected keys '
                f'{self.unexpected[:limit]}, {len(self.shape)} shape '
                f'mismatches {self.shape[:limit]}')


def state_dict_mismatch(own: Mapping[str, Tensor],
                        state: Mapping[str, Tensor]) -> StateDictMismatch:
    """How ``state`` differs from a model's own ``state_dict()``.

    Args:
        own (Mapping[str, Tensor]): The model's state dict.
        state (Mapping[str, Tensor]): The state dict to load.

    Returns:
        StateDictMismatch: Missing, unexpected and shape-mismatched keys.
    """
    return StateDictMismatch(
        missing=[k for k in own if k not in state],
        unexpected=[k for k in state if k not in own],
        shape=[
            k for k in own
            if k in state and tuple(state[k].shape) != tuple(own[k].shape)
        ])


def load_student_weights(distiller: nn.Module, path: str) -> None:
    """Load a student checkpoint into a distiller's ``student``.

    Args:
        distiller (nn.Module): A distiller with a ``student`` module.
        path (str): A plain student checkpoint (keys of the student model)
            or a distillation run's (keys ``student.*``, whose adapters and
            teacher entries are ignored where the distiller lacks them).
    """
    from mmengine.runner import load_checkpoint
    state = load_weights_only(path)
    state = state.get('state_dict', state)
    if any(k.startswith('student.') for k in state):
        load_checkpoint(distiller, path, map_location='cpu', strict=False)
    else:
        load_checkpoint(distiller.student, path, map_location='cpu')
