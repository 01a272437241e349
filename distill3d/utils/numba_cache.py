# Copyright (c) distill3d contributors. All rights reserved.
"""Compile mmdet3d's numba kernels once per machine, not once per process.

mmdet3d decorates its numba kernels with ``numba.jit`` without
``cache=True``, so every process compiles again the ones it uses: the KITTI
evaluation kernels of ``KittiMetric`` and the box kernels of the
``ObjectNoise`` / ``ObjectSample`` training transforms (about 20-40 s each
on a 2-core CPU), paid by every training run, every validation and every
study evaluation. :func:`enable_numba_cache` re-wraps the same Python
functions with the same options plus ``cache=True`` (numba stores the
machine code next to mmdet3d's module, or in its user-wide cache directory
when that is not writable). The kernels are replaced in their own module,
where mmdet3d's callers (Python functions and other kernels) look them up,
before anything has compiled them. Nothing of what they compute changes;
set ``DISTILL3D_NO_JIT_CACHE=1`` to keep mmdet3d's kernels as they are.
"""
import importlib
import os
from typing import Dict, Optional, Sequence

KITTI_EVAL = 'mmdet3d.evaluation.functional.kitti_utils.eval'
#: module -> kernel names (None: every kernel the module defines)
CACHED_KERNELS: Dict[str, Optional[Sequence[str]]] = {
    KITTI_EVAL: ('get_thresholds', 'image_box_overlap',
                 'd3_box_overlap_kernel', 'compute_statistics_jit',
                 'fused_compute_statistics'),
    # ObjectNoise (noise_per_object_v3_ and the kernels it calls)
    'mmdet3d.datasets.transforms.data_augment_utils': None,
    # points_in_rbbox, box collision and corner kernels (ObjectSample,
    # ObjectNoise, the GT database)
    'mmdet3d.structures.ops.box_np_ops': None,
}


def module_kernels(module_name: str) -> list:
    """Names of the numba CPU dispatchers a module defines itself.

    Args:
        module_name (str): An importable module.

    Returns:
        list[str]: Its kernel names (not those it imports from elsewhere).
    """
    from numba.core.registry import CPUDispatcher
    module = importlib.import_module(module_name)
    return [
        name for name, obj in vars(module).items()
        if isinstance(obj, CPUDispatcher)
        and obj.py_func.__module__ == module_name
    ]


def cache_module_kernels(module_name: str,
                         names: Optional[Sequence[str]] = None) -> bool:
    """Re-wrap numba kernels of one module with ``cache=True``.

    Args:
        module_name (str): The module that defines the kernels.
        names (Sequence[str], optional): The kernels; by default every
            numba CPU dispatcher the module defines itself.

    Returns:
        bool: Whether every named kernel is now cached (False when numba or
        the module is missing, or a named kernel is not a dispatcher).
    """
    try:
        import numba
        from numba.core.registry import CPUDispatcher
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    if names is None:
        names = module_kernels(module_name)
    done = True
    for name in names:
        kernel = getattr(module, name, None)
        if getattr(kernel, '_distill3d_cached', False):
            continue
        if not isinstance(kernel, CPUDispatcher):
            done = False
            continue
        options = dict(kernel.targetoptions)
        options['cache'] = True
        cached = numba.jit(**options)(kernel.py_func)
        cached._distill3d_cached = True
        setattr(module, name, cached)
    return done


def enable_numba_cache() -> bool:
    """Cache the kernels of :data:`CACHED_KERNELS` (idempotent).

    Returns:
        bool: Whether all of them are cached (False when disabled by
        ``DISTILL3D_NO_JIT_CACHE`` or when numba / mmdet3d lack some).
    """
    if os.environ.get('DISTILL3D_NO_JIT_CACHE'):
        return False
    done = True
    for module_name, names in CACHED_KERNELS.items():
        done = cache_module_kernels(module_name, names) and done
    return done
