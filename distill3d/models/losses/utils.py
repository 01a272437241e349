"""Shared helpers of the distillation losses."""
import functools
from typing import Callable

import torch


def fp32(forward: Callable) -> Callable:
    """Run a loss forward in float32 with autocast off (AMP-safe KD terms).

    Floating tensor arguments are cast to float32.
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
        device = next((a.device.type for a in args if torch.is_tensor(a)),
                      'cpu')
        with torch.autocast(device_type=device, enabled=False):
            return forward(self, *args, **kwargs)

    return wrapper
