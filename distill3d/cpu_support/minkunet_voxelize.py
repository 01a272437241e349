"""CPU points through the ``minkunet`` voxelization of mmdet3d's
``Det3DDataPreprocessor``.

mmdet3d 1.4's ``voxel_type='minkunet'`` branch quantises the points with
numpy and moves the resulting index arrays back with ``.cuda()``: on a CPU
run (or a machine without CUDA) it fails with ``AssertionError: Torch not
compiled with CUDA enabled`` before the model sees a voxel. Nothing else in
that branch depends on CUDA, so for CPU points we run mmdet3d's own method
unchanged with ``Tensor.cuda`` meaning "to the points' device" for the
duration of the call. CUDA points, and every other ``voxel_type``, take the
original method untouched.
"""
import contextlib
from typing import Iterator

import torch

from .dispatch import ROUTED, announce


@contextlib.contextmanager
def cuda_calls_stay_on(device: torch.device) -> Iterator[None]:
    """Within the block, ``tensor.cuda()`` returns ``tensor.to(device)``.

    Args:
        device (torch.device): Where ``.cuda()`` sends tensors meanwhile.
    """
    original = torch.Tensor.cuda

    def to_device(tensor, *args, **kwargs):
        return tensor.to(device)

    torch.Tensor.cuda = to_device
    try:
        yield
    finally:
        torch.Tensor.cuda = original


def register() -> None:
    """Route CPU points of ``voxel_type='minkunet'`` (idempotent)."""
    from mmdet3d.models.data_preprocessors import Det3DDataPreprocessor
    original = Det3DDataPreprocessor.voxelize
    if getattr(original, '_distill3d_cpu', False):
        return

    def voxelize(self, points, data_samples):
        if self.voxel_type != 'minkunet' or not points or \
                points[0].is_cuda:
            return original(self, points, data_samples)
        announce()
        with cuda_calls_stay_on(points[0].device):
            return original(self, points, data_samples)

    voxelize._distill3d_cpu = True
    voxelize._distill3d_original = original
    voxelize.__doc__ = original.__doc__
    Det3DDataPreprocessor.voxelize = voxelize
    ROUTED.append('mmdet3d.models.data_preprocessors.data_preprocessor.'
                  'Det3DDataPreprocessor.voxelize')
