"""CPU-support layer: run mmdet3d's detectors, segmentors and metrics on CPU.

mmcv 2.1.0 has CUDA-only kernels for many 3D ops, spconv-cu120 picks a
GPU-only algorithm, and mmdet3d's KITTI metric compiles numba-CUDA code. This
package supplies tested pure-PyTorch CPU versions of exactly those pieces and
routes only CPU inputs to them; CUDA inputs keep the compiled kernels.
:func:`enable_cpu_support` runs when ``distill3d`` is imported.
"""
from . import (boxes3d, grouping, interpolate, kitti_rotate_iou,
               minkunet_voxelize, mmengine_dist, roiaware_pool3d,
               roipoint_pool3d, sampling, scatter, sparse_conv, spconv_cpu)
from .dispatch import ROUTED

_ENABLED = False


def enable_cpu_support() -> None:
    """Install every CPU route (idempotent)."""
    global _ENABLED
    if _ENABLED:
        return
    # Before anything imports mmdet3d's numba-CUDA rotate_iou module.
    kitti_rotate_iou.register()
    for module in (sampling, grouping, interpolate, boxes3d, scatter,
                   roiaware_pool3d, roipoint_pool3d, sparse_conv):
        module.register()
    spconv_cpu.register()
    minkunet_voxelize.register()
    mmengine_dist.register()
    _ENABLED = True


__all__ = ['enable_cpu_support', 'ROUTED']
