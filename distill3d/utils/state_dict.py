"""Compare a checkpoint's state dict with a model's."""
from typing import List, Mapping, NamedTuple

from torch import Tensor


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

