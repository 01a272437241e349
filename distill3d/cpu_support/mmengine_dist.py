"""Distributed initialisation without GPUs (mmengine's ``pytorch`` launcher).

mmengine 0.10.7's ``_init_dist_pytorch`` calls ``torch.cuda.set_device``
unconditionally, which raises on a CPU-only torch build. When no CUDA device
exists, the process group is initialised without it (use the gloo backend;
``tools/train.py`` switches to it). With CUDA, mmengine's function runs.
"""
import torch

from .dispatch import ROUTED


def register() -> None:
    """Route mmengine's PyTorch-launcher initialisation on CPU machines."""
    from mmengine.dist import utils as dist_utils
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_distill3d_cpu', False):
        return

    def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        torch.distributed.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch._distill3d_cpu = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch
    ROUTED.append('mmengine.dist.utils._init_dist_pytorch')
