"""Shared helpers of the distillation losses."""
import functools
from typing import Callable

import torch


def fp32(forward: Callable) -> Callable:
    """Run a loss forward in float32 with autocast off (AMP-safe KD terms).

    Floating tensor arguments are cast to float32 (record arguments are
    cast by the loss itself); autocast is switched off on their device.
    """

    @functools.wraps(forward)
    def wrapper(self, *args, **kwargs):
        args = [
            a.float() if torch.is_tensor(a) and a.is_floating_point() else a
            for a in args
        ]
        kwargs = {
            k: v.float() if torch.is_tensor(v) and v.is_floating_point()
            else v
            for k, v in kwargs.items()
        }
        tensors = [a if torch.is_tensor(a) else getattr(a, 'tensor', None)
                   for a in args]
        device = next(
            (t.device.type for t in tensors if torch.is_tensor(t)), 'cpu')
        with torch.autocast(device_type=device, enabled=False):
            return forward(self, *args, **kwargs)

    return wrapper
