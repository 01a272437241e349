"""Routing of mmcv's compiled ops to pure-PyTorch versions for CPU tensors.

mmcv 2.1.0 ships many 3D ops with CUDA kernels only. Their Python wrappers
either allocate outputs on the input's device and call a compiled function of
``mmcv._ext`` (then we replace that compiled function, below the wrapper), or
allocate with ``torch.cuda.*`` / query the current CUDA device (then we
replace the wrapper's ``forward`` for CPU inputs only). In both cases CUDA
tensors still reach mmcv's own kernels unchanged.
"""
import sys
from typing import Any, Callable, Dict, List, Optional

import torch

#: Names of everything routed so far, for the one-time log message.
ROUTED: List[str] = []
_ANNOUNCED = False


def announce() -> None:
    """Log once per process, at the first CPU call, what runs in PyTorch.

    Logging at first use (not at import) puts the message into the log of
    the runner that is active at that point.
    """
    global _ANNOUNCED
    if _ANNOUNCED:
        return
    _ANNOUNCED = True
    from mmengine.logging import print_log
    print_log(
        'distill3d CPU support: CPU tensors reach pure-PyTorch versions of '
        f'{len(ROUTED)} mmcv/spconv/mmdet3d functions without CPU kernels '
        '(CUDA tensors keep the compiled kernels): ' + ', '.join(ROUTED),
        logger='current')


def _has_cuda_tensor(args: tuple, kwargs: Dict[str, Any]) -> bool:
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, torch.Tensor) and value.is_cuda:
            return True
    return False


def _dispatcher(name: str, original: Callable, cpu_impl: Callable,
                doc: Optional[str]) -> Callable:
    """A function calling ``original`` when any tensor argument is on CUDA
    and ``cpu_impl`` otherwise (marked so that routing is idempotent)."""

    def dispatcher(*args, **kwargs):
        if _has_cuda_tensor(args, kwargs):
            return original(*args, **kwargs)
        announce()
        return cpu_impl(*args, **kwargs)

    dispatcher._distill3d_cpu = True
    dispatcher._distill3d_original = original
    dispatcher.__name__ = name
    dispatcher.__doc__ = doc
    return dispatcher


def route_ext_function(name: str, cpu_impl: Callable) -> None:
    """Replace ``mmcv._ext.<name>`` by a dispatcher.

    The dispatcher calls ``cpu_impl`` with the same arguments when no tensor
    argument lives on a CUDA device, and mmcv's compiled function otherwise.

    Args:
        name (str): Name of the compiled function in ``mmcv._ext``.
        cpu_impl (Callable): Pure-PyTorch implementation with the compiled
            function's signature (keyword names included); it writes into the
            output tensors it is given exactly like the compiled function.
    """
    from mmcv import _ext
    original = getattr(_ext, name)
    if getattr(original, '_distill3d_cpu', False):
        return
    setattr(_ext, name, _dispatcher(name, original, cpu_impl,
                                    cpu_impl.__doc__))
    ROUTED.append(f'mmcv._ext.{name}')


def route_function_method(cls: type, method: str, cpu_impl: Callable,
                          device_arg: int) -> None:
    """Replace a static method of an autograd ``Function`` by a dispatcher.

    Args:
        cls (type): The ``torch.autograd.Function`` subclass.
        method (str): ``'forward'`` or ``'backward'``.
        cpu_impl (Callable): Replacement with the method's signature
            (``ctx`` first).
        device_arg (int): Index (after ``ctx``) of the tensor argument whose
            device decides the route.
    """
    original = cls.__dict__[method].__func__ if isinstance(
        cls.__dict__[method], staticmethod) else cls.__dict__[method]
    if getattr(original, '_distill3d_cpu', False):
        return

    def dispatcher(ctx, *args):
        tensor = args[device_arg]
        if isinstance(tensor, torch.Tensor) and tensor.is_cuda:
            return original(ctx, *args)
        announce()
        return cpu_impl(ctx, *args)

    dispatcher._distill3d_cpu = True
    dispatcher._distill3d_original = original
    setattr(cls, method, staticmethod(dispatcher))
    ROUTED.append(f'{cls.__module__}.{cls.__name__}.{method}')


def route_module_function(module_name: str, name: str,
                          cpu_impl: Callable) -> None:
    """Replace a plain function of an mmcv module everywhere it is bound.

    ``from mmcv.ops import f`` copies the function object into the importing
    module, so every loaded module that holds the original object under that
    name is rebound to the dispatcher (modules loaded later import the
    dispatcher from ``mmcv.ops``). The first positional argument decides the
    route.

    Args:
        module_name (str): Module defining the function, e.g.
            ``'mmcv.ops.points_in_boxes'``.
        name (str): Function name.
        cpu_impl (Callable): Replacement with the same signature.
    """
    module = sys.modules[module_name]
    original = getattr(module, name)
    if getattr(original, '_distill3d_cpu', False):
        return
    dispatcher = _dispatcher(name, original, cpu_impl, original.__doc__)
    for mod in list(sys.modules.values()):
        try:
            if mod is not None and mod.__dict__.get(name) is original:
                setattr(mod, name, dispatcher)
        except (AttributeError, TypeError):
            continue
    ROUTED.append(f'{module_name}.{name}')
