"""Shared helpers of the distillation losses."""
import functools
from typing import Callable, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


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


def teacher_confidence(context: List[Tensor], size: Sequence[int]) -> Tensor:
    """Largest teacher probability per BEV pixel over classification maps.

    Args:
        context (list[Tensor]): Teacher classification logits read as
            sigmoid scores, (B, K_i, h, w) each (CenterPoint heatmaps,
            PointPillars' / SECOND's anchor map ``conv_cls``).
        size (Sequence[int]): (H, W) of the feature map to score; maps of
            another size are max-pooled (larger) or resized (smaller).

    Returns:
        Tensor: (B, 1, H, W) largest ``sigmoid(logit)`` over all channels of
        all maps.
    """
    conf = None
    for logits in context:
        prob = torch.sigmoid(logits.float()).amax(dim=1, keepdim=True)
        if tuple(prob.shape[-2:]) != tuple(size):
            if prob.shape[-2] >= size[0] and prob.shape[-1] >= size[1]:
                prob = F.adaptive_max_pool2d(prob, size)
            else:
                prob = F.interpolate(prob, size=size, mode='nearest')
        conf = prob if conf is None else torch.maximum(conf, prob)
    return conf
