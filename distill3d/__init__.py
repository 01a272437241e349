"""distill3d: knowledge distillation for mmdetection3d 1.x models.

Importing the package (directly or through a config's ``custom_imports``)
installs the CPU-support layer, lets ``distill3d::`` config paths resolve,
allow-lists the types mmengine checkpoints
need for weights-only loading, caches mmdet3d's compiled numba kernels (KITTI
evaluation, object noise / sampling) across processes
(``distill3d.utils.numba_cache``) and spconv's algorithm descriptions
(``distill3d.utils.spconv_cache``), makes data
pipeline errors name the sample's files
(``distill3d.datasets.file_errors``) and registers distill3d's modules in
mmdet3d's registries.
"""
# first: before anything imports spconv.algo (spconv.pytorch, mmdet3d)
from .utils.spconv_cache import enable_spconv_algo_cache

enable_spconv_algo_cache()

from .cpu_support import enable_cpu_support  # noqa: E402
from .utils import register_config_scope, register_safe_globals  # noqa: E402

enable_cpu_support()
register_safe_globals()
register_config_scope()

from . import datasets, engine, models  # noqa: E402,F401  (registrations)

from .version import __version__  # noqa: E402
__all__ = ['__version__', 'enable_cpu_support', 'register_safe_globals']

from . import evaluation  # noqa: E402,F401  (metric registrations)
from .utils.numba_cache import enable_numba_cache  # noqa: E402

enable_numba_cache()
