"""KittiMetric's numba kernels are compiled with cache=True after
``import distill3d`` (same functions, same options)."""
import distill3d  # noqa: F401
from distill3d.evaluation.kitti_jit_cache import (KERNELS,
                                                  enable_kitti_jit_cache)


def test_kernels_cached_with_their_options():
    from mmdet3d.evaluation.functional.kitti_utils import eval as keval
    assert enable_kitti_jit_cache()  # idempotent
    for name in KERNELS:
        kernel = getattr(keval, name)
        assert kernel._distill3d_cached
        assert type(kernel._cache).__name__ == 'FunctionCache'
        assert kernel.py_func.__module__ == keval.__name__
    assert keval.d3_box_overlap_kernel.targetoptions.get('parallel')
