# Copyright (c) distill3d contributors. All rights reserved.
"""Describe spconv's GEMM / conv algorithms once per machine, not per process.

``import spconv.algo`` (which ``spconv.pytorch``, hence mmdet3d's models,
imports) builds a description of every CUDA GEMM and implicit-GEMM conv
algorithm spconv 2.x knows: for each of about 730 parameter sets
:mod:`spconv.algocore` generates the whole cumm kernel object (a code
generator) only to read six small facts off it (the elements per access
of A, B and C, the minimum CUDA architecture, and for convs the int8 and
dynamic-mask flags). That takes about 10 s of pure Python on a 2-core CPU,
in every process that imports mmdet3d's models: every ``tools/train.py``,
every evaluation subprocess, every test worker.

:func:`enable_spconv_algo_cache` keeps those facts in a JSON file per
spconv / cumm version (``$XDG_CACHE_HOME/distill3d/spconv_algo/``, else
``~/.cache/...``) and, inside :mod:`spconv.algocore` only, replaces the two
kernel generators by a look-up that returns the cached facts (a miss runs
the real generator and records its facts). The descriptions spconv builds
are field for field those it builds without the cache
(``tests/test_utils/test_spconv_cache.py``); the kernel generators
elsewhere (spconv's NVRTC path on a GPU) are untouched. Set
``DISTILL3D_NO_SPCONV_CACHE=1`` to keep spconv as it is.
"""
import enum
import json
import os
import os.path as osp
import sys
import tempfile
from types import SimpleNamespace
from typing import Callable, Dict, Optional

#: the facts :mod:`spconv.algocore` reads off a generated kernel
FACTS = ('a', 'b', 'c', 'min_arch', 'int8_inference', 'dynamic_mask')
#: what :func:`enable_spconv_algo_cache` did in this process: the table's
#: file, the entries it read and the entries it added (real generations)
STATS: dict = {}


def cache_dir() -> str:
    """Where the fact tables live (created on first write)."""
    root = os.environ.get('XDG_CACHE_HOME') or osp.join(
        osp.expanduser('~'), '.cache')
    return osp.join(root, 'distill3d', 'spconv_algo')


def _canon(value, depth: int = 0):
    """A JSON-able, address-free form of an algorithm parameter value.

    Raises:
        TypeError: When the value has no stable form (then it is not
            cached).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return f'{type(value).__name__}.{value.name}'
    if isinstance(value, (list, tuple)):
        return [_canon(v, depth + 1) for v in value]
    if hasattr(value, 'tolist'):  # numpy arrays, cumm's MetaArray
        return _canon(value.tolist(), depth + 1)
    fields = getattr(value, '__dict__', None)
    if fields is not None and depth < 6:
        return {
            type(value).__name__:
            {k: _canon(v, depth + 1)
             for k, v in sorted(fields.items())}
        }
    text = repr(value)
    if ' at 0x' in text:
        raise TypeError(f'no stable form for {type(value).__name__}')
    return f'{type(value).__name__}:{text}'


def param_key(params) -> str:
    """The cache key of a cumm ``GemmAlgoParams`` / ``ConvAlgoParams``:
    every attribute, by value."""
    return json.dumps(_canon(params), sort_keys=True)


def kernel_facts(kernel) -> dict:
    """The facts :mod:`spconv.algocore` reads off a generated kernel."""
    return dict(
        a=kernel.input_spec.input_iter_a.element_per_acc,
        b=kernel.input_spec.input_iter_b.element_per_acc,
        c=kernel.output_spec.out_iter.element_per_acc,
        min_arch=list(kernel.min_arch()),
        int8_inference=getattr(kernel, 'int8_inference', None),
        dynamic_mask=getattr(kernel, 'dynamic_mask', None))


def facts_as_kernel(facts: dict) -> SimpleNamespace:
    """An object that answers :mod:`spconv.algocore`'s reads as the
    generated kernel did."""
    min_arch = tuple(facts['min_arch'])
    return SimpleNamespace(
        input_spec=SimpleNamespace(
            input_iter_a=SimpleNamespace(element_per_acc=facts['a']),
            input_iter_b=SimpleNamespace(element_per_acc=facts['b'])),
        output_spec=SimpleNamespace(
            out_iter=SimpleNamespace(element_per_acc=facts['c'])),
        min_arch=lambda: min_arch,
        int8_inference=facts['int8_inference'],
        dynamic_mask=facts['dynamic_mask'])


def cached_generator(generate: Callable, table: Dict[str, dict],
                     kind: str) -> Callable:
    """Wrap a cumm kernel generator with the fact table ``table``.

    Args:
        generate (Callable): ``gen_gemm_kernels`` or the conv one.
        table (dict): key -> facts; misses are added to it.
        kind (str): ``'gemm'`` or ``'conv'`` (part of the key).

    Returns:
        Callable: ``params -> kernel or cached facts``.
    """

    def lookup(params):
        try:
            key = f'{kind}:{param_key(params)}'
        except TypeError:
            return generate(params)
        facts = table.get(key)
        if facts is None:
            kernel = generate(params)
            table[key] = kernel_facts(kernel)
            return kernel
        return facts_as_kernel(facts)

    lookup._distill3d_cached = True
    return lookup


def _load(path: str) -> Dict[str, dict]:
    try:
        with open(path) as f:
            table = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(table, dict) or not all(
            isinstance(v, dict) and set(v) == set(FACTS)
            for v in table.values()):
        return {}
    return table


def _save(path: str, table: Dict[str, dict]) -> None:
    tmp = None
    try:
        os.makedirs(osp.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=osp.dirname(path), suffix='.tmp')
        with os.fdopen(fd, 'w') as f:
            json.dump(table, f)
        os.replace(tmp, path)  # atomic: a reader sees old or new
        tmp = None
    except (OSError, TypeError, ValueError):
        pass  # read-only home, full disk: every process describes them
    finally:
        if tmp is not None:  # a failed write leaves no temp file behind
            try:
                os.remove(tmp)
            except OSError:
                pass


def enable_spconv_algo_cache(path: Optional[str] = None) -> bool:
    """Import ``spconv.algo`` with the fact table (idempotent).

    Must run before anything imports ``spconv.algo`` (``spconv.pytorch``,
    mmdet3d's models): ``import distill3d`` calls it first.

    Args:
        path (str, optional): The table's file; by default one per spconv
            and cumm version under :func:`cache_dir`.

    Returns:
        bool: Whether spconv's algorithms were described through the
        table (False when disabled, when spconv or cumm is missing, or
        when ``spconv.algo`` was imported before).
    """
    if os.environ.get('DISTILL3D_NO_SPCONV_CACHE'):
        return False
    if 'spconv.algo' in sys.modules:
        from spconv import algocore
        return getattr(algocore.gen_conv_kernels, '_distill3d_cached',
                       False)
    try:
        import cumm
        import spconv
        from spconv import algocore
    except ImportError:
        return False
    if path is None:
        path = osp.join(
            cache_dir(), f'spconv-{spconv.__version__}_'
            f'cumm-{cumm.__version__}.json')
    table = _load(path)
    known = len(table)
    algocore.gen_conv_kernels = cached_generator(algocore.gen_conv_kernels,
                                                 table, 'conv')
    algocore.gen_gemm_kernels = cached_generator(algocore.gen_gemm_kernels,
                                                 table, 'gemm')
    import spconv.algo  # noqa: F401  (describes every algorithm)
    STATS.update(path=path, loaded=known, added=len(table) - known)
    if len(table) > known:
        _save(path, table)
    return True
