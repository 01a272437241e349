# Copyright (c) distill3d contributors. All rights reserved.
"""Compile mmdet3d's KITTI evaluation kernels once per machine, not once
per process.

``mmdet3d.evaluation.functional.kitti_utils.eval`` decorates its kernels
with ``numba.jit`` without ``cache=True``, so every process that runs
``KittiMetric`` compiles them again: tens of seconds on a 2-core CPU, paid
by every validation of a training run and every evaluation of a study.
:func:`enable_kitti_jit_cache` re-wraps the same Python functions with the
same options plus ``cache=True`` (numba stores the machine code next to
mmdet3d's module, or in its user-wide cache directory when that is not
writable). Nothing of the evaluation changes; set
``DISTILL3D_NO_JIT_CACHE=1`` to keep mmdet3d's kernels as they are.
"""
import os

KERNELS = ('get_thresholds', 'image_box_overlap', 'd3_box_overlap_kernel',
           'compute_statistics_jit', 'fused_compute_statistics')


def enable_kitti_jit_cache() -> bool:
    """Re-wrap the KITTI evaluation kernels with ``cache=True``.

    Returns:
        bool: Whether the kernels are cached (False when disabled by
        ``DISTILL3D_NO_JIT_CACHE`` or when numba / mmdet3d lack them).
    """
    if os.environ.get('DISTILL3D_NO_JIT_CACHE'):
        return False
    try:
        import numba
        from numba.core.registry import CPUDispatcher

        from mmdet3d.evaluation.functional.kitti_utils import eval as keval
    except ImportError:
        return False
    done = True
    for name in KERNELS:
        kernel = getattr(keval, name, None)
        if getattr(kernel, '_distill3d_cached', False):
            continue
        if not isinstance(kernel, CPUDispatcher):
            done = False
            continue
        options = dict(kernel.targetoptions)
        options['cache'] = True
        cached = numba.jit(**options)(kernel.py_func)
        cached._distill3d_cached = True
        setattr(keval, name, cached)
    return done
