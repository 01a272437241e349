"""mmdet3d's numba kernels (KITTI evaluation, object noise / sampling) are
compiled with ``cache=True`` after ``import distill3d`` (same functions,
same options), and a later process loads them instead of compiling."""
import importlib

import numba
import numpy as np

import distill3d  # noqa: F401
from distill3d.utils.numba_cache import (CACHED_KERNELS, KITTI_EVAL,
                                         enable_numba_cache, module_kernels)


def _kernels(module_name):
    module = importlib.import_module(module_name)
    names = CACHED_KERNELS[module_name] or module_kernels(module_name)
    return module, names


def test_kernels_cached_with_their_options():
    assert enable_numba_cache()  # idempotent
    for module_name in CACHED_KERNELS:
        module, names = _kernels(module_name)
        assert names, module_name
        for name in names:
            kernel = getattr(module, name)
            assert kernel._distill3d_cached, f'{module_name}.{name}'
            assert type(kernel._cache).__name__ == 'FunctionCache'
            assert kernel.py_func.__module__ == module_name
    keval = importlib.import_module(KITTI_EVAL)
    assert keval.d3_box_overlap_kernel.targetoptions.get('parallel')
    augment, names = _kernels(
        'mmdet3d.datasets.transforms.data_augment_utils')
    # ObjectNoise's kernels, called through the module's globals
    assert {'noise_per_box', 'box_collision_test',
            'points_transform_'} <= set(names)
    assert augment.noise_per_box.targetoptions.get('nopython')


def test_a_new_process_loads_the_compiled_kernel():
    """A second dispatcher of the same function (as in a new process)
    finds the machine code the first one stored."""
    augment = importlib.import_module(
        'mmdet3d.datasets.transforms.data_augment_utils')
    kernel = augment._rotation_matrix_3d_
    rot = np.zeros((3, 3), dtype=np.float32)
    kernel(rot, np.float32(0.5), 2)
    expected = rot.copy()
    fresh = numba.jit(**dict(kernel.targetoptions, cache=True))(
        kernel.py_func)
    rot[:] = 0
    fresh(rot, np.float32(0.5), 2)
    assert sum(fresh.stats.cache_hits.values()) == 1
    assert sum(fresh.stats.cache_misses.values()) == 0
    np.testing.assert_array_equal(rot, expected)
    assert abs(expected[0, 0] - np.cos(0.5)) < 1e-6
