# Copyright (c) distill3d contributors. All rights reserved.
"""Data-parallel wrapper for distillers with their own ``train_step``.

mmengine's ``MMDistributedDataParallel.train_step`` runs one forward and
one ``update_params`` on the model's single optimizer wrapper; an
:class:`~distill3d.models.AdversarialDistiller3D` alternates a student and
a discriminator update with two optimizers (an ``OptimWrapperDict``), which
that path cannot do, and ``MMSeparateDistributedDataParallel`` would wrap
the distiller's children (student, loss modules) in DDP objects that the
distiller addresses directly. This wrapper instead

- moves the model to the device and broadcasts every parameter and buffer
  from rank 0 once, so all ranks start identical;
- calls the model's own ``train_step``, which averages the gradients of
  each optimizer's parameters over the ranks before each step
  (:func:`average_gradients`), so the ranks stay identical.

BatchNorm running statistics stay per rank, as with mmengine's DDP default
``broadcast_buffers=False``.
"""
from typing import Any, Dict, Iterable, Union

import torch
from mmengine.device import get_device
from mmengine.dist import get_world_size
from mmengine.registry import MODEL_WRAPPERS
from torch import nn


def average_gradients(params: Iterable[nn.Parameter]) -> None:
    """Average ``.grad`` over the ranks (a no-op with one process).

    A parameter without a gradient on every rank keeps ``grad=None`` (an
    optimizer then skips it, as it would in one process); one with a
    gradient on some ranks only gets zeros on the others first.

    Args:
        params (Iterable[nn.Parameter]): Parameters of one optimizer.
    """
    world = get_world_size()
    if world == 1:
        return
    import torch.distributed as dist
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    has = torch.tensor([p.grad is not None for p in params],
                       dtype=torch.float32, device=params[0].device)
    dist.all_reduce(has)
    params = [p for p, h in zip(params, has.tolist()) if h > 0]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    if not params:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
        offset += n


@MODEL_WRAPPERS.register_module()
class AdversarialDistillerDDP(nn.Module):
    """Runs a distiller's own ``train_step`` on every rank (see module doc).

    Args:
        module (nn.Module): The distiller (its ``train_step`` averages the
            gradients, e.g. :class:`AdversarialDistiller3D`).
        **kwargs: DDP options of the runner's ``model_wrapper_cfg``
            (``device_ids``, ``broadcast_buffers``,
            ``find_unused_parameters``); accepted and unused.
    """

    def __init__(self, module: nn.Module, **kwargs: Any) -> None:
        super().__init__()
        self.module = module.to(get_device())
        if get_world_size() > 1:
            import torch.distributed as dist
            with torch.no_grad():
                for tensor in list(self.module.parameters()) + \
                        list(self.module.buffers()):
                    dist.broadcast(tensor, 0)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Any) -> Dict[str, torch.Tensor]:
        """The model's ``train_step``."""
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """The model's ``val_step``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """The model's ``test_step``."""
        return self.module.test_step(data)
