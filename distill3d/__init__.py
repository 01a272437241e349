"""distill3d: knowledge distillation for mmdetection3d 1.x models.

Importing the package (directly or through a config's ``custom_imports``)
installs the CPU-support layer, lets ``distill3d::`` config paths resolve,
allow-lists the types mmengine checkpoints
need for weights-only loading, keeps numba's parallel kernels from
raising torch's thread count (``distill3d.utils.numba_threads``), caches
mmdet3d's compiled numba kernels (KITTI
evaluation, object noise / sampling) across processes
(``distill3d.utils.numba_cache``) and spconv's algorithm descriptions
(``distill3d.utils.spconv_cache``), formats each config text with yapf
once per process (``distill3d.utils.config_format_cache``), makes data
pipeline errors name the sample's files
(``distill3d.datasets.file_errors``) and registers distill3d's modules in
mmdet3d's registries.
"""
# first, before anything imports numba (mmdet3d's evaluation): numba's
# thread pool follows OMP_NUM_THREADS (distill3d.utils.numba_threads)
from .utils.numba_threads import match_numba_threads

match_numba_threads()

# before anything imports spconv.algo (spconv.pytorch, mmdet3d)
from .utils.spconv_cache import enable_spconv_algo_cache  # noqa: E402

enable_spconv_algo_cache()

from .cpu_support import enable_cpu_support  # noqa: E402
from .utils import (enable_config_format_cache,  # noqa: E402
                    register_config_scope, register_safe_globals)

enable_cpu_support()
register_safe_globals()
register_config_scope()
enable_config_format_cache()

from . import datasets, engine, models  # noqa: E402,F401  (registrations)

from .version import __version__  # noqa: E402
__all__ = ['__version__', 'enable_cpu_support', 'register_safe_globals']

from . import evaluation  # noqa: E402,F401  (metric registrations)
from .utils.numba_cache import enable_numba_cache  # noqa: E402

enable_numba_cache()
