"""Allow-list for loading mmengine checkpoints with ``weights_only=True``.

torch >= 2.6 loads checkpoints with its restricted unpickler by default.
mmengine 0.10.7 checkpoints hold numpy arrays, scalars and dtypes (runner
meta, dataset meta) and ``mmengine.logging.HistoryBuffer`` objects (message
hub), whose pickled state references ``HistoryBuffer.min`` etc. through
``builtins.getattr``. Instead of switching the restriction off, exactly
these types are allowed, and the name ``builtins.getattr`` is bound to
:func:`history_buffer_getattr`, which resolves nothing but HistoryBuffer's
statistics methods.

torch < 2.4 has no ``add_safe_globals`` (and loads unrestricted by
default): there :func:`register_safe_globals` does nothing and
:func:`load_weights_only` reads a checkpoint with a pickle module whose
``find_class`` allows torch's weights-only globals plus the same list, so
a teacher checkpoint is read under the same rule on every torch.
"""
import functools
import pickle
import types
from typing import Any, Dict, List, Union

import numpy as np
import torch

_REGISTERED = False


def history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Args:
        obj (Any): Must be the ``HistoryBuffer`` class.
        name (str): A statistics method name (``min``, ``max``, ``current``,
            ``mean`` or a method registered on HistoryBuffer).

    Returns:
        Any: The method.

    Raises:
        pickle.UnpicklingError: For any other object or name.
    """
    import pickle

    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean'}
    allowed |= set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'distill3d weights-only loading refuses getattr({obj!r}, {name!r}); '
        'only HistoryBuffer statistics methods are allowed')


def safe_globals() -> List[Any]:
    """The exact globals distill3d allows in weights-only loading.

    Returns:
        list: Objects and ``(object, qualified name)`` pairs for
        :func:`torch.serialization.add_safe_globals`.
    """
    import collections

    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    # ConfigDict and Counter are plain dict subclasses (segmentation data
    # set metas hold them, e.g. Cylinder3D's checkpoints)
    items: List[Any] = [
        HistoryBuffer, np.ndarray, np.dtype, ConfigDict, collections.Counter,
        (history_buffer_getattr, 'builtins.getattr')
    ]
    # numpy 2 pickles arrays as numpy._core.multiarray.*, numpy 1 as
    # numpy.core.multiarray.*: allow both names, whichever numpy runs
    multiarray = getattr(np, '_core', None)
    multiarray = getattr(multiarray, 'multiarray', None) or \
        np.core.multiarray
    for fn in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
            items.append((fn, f'{module}.{fn.__name__}'))
    # numpy 2 pickles dtypes by their classes, e.g. numpy.dtypes.Float64DType
    # (numpy < 1.25 has no numpy.dtypes and pickles numpy.dtype itself)
    dtypes = getattr(np, 'dtypes', None)
    for name in dir(dtypes) if dtypes is not None else []:
        obj = getattr(dtypes, name)
        if isinstance(obj, type) and issubclass(obj, np.dtype):
            items.append(obj)
    return items


@functools.lru_cache(maxsize=1)
def _allowed_by_name() -> Dict[str, Any]:
    """``'module.qualname' -> object`` for :func:`safe_globals` plus
    latin-1 ``_codecs.encode`` (built once; read by every ``find_class``).
    """
    allowed = {'_codecs.encode': latin1_encode}
    for item in safe_globals():
        obj, name = item if isinstance(item, tuple) else \
            (item, f'{item.__module__}.{item.__qualname__}')
        allowed[name] = obj
    return allowed


def latin1_encode(text: str, encoding: str = 'latin1') -> bytes:
    """``_codecs.encode`` for latin-1 only: how protocol 2 pickles bytes
    (numpy 1.x arrays' data); newer torch allows the same."""
    if encoding not in ('latin1', 'latin-1'):
        raise pickle.UnpicklingError(
            'distill3d weights-only loading refuses _codecs.encode with '
            f'encoding {encoding!r}')
    return text.encode('latin1')


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only torch's weights-only globals and :func:`safe_globals`.

    The rule of the pickle documentation's "Restricting Globals": every
    class or function a pickle can reach goes through ``find_class``.
    """

    def find_class(self, module: str, name: str) -> Any:
        import _compat_pickle

        from torch import _weights_only_unpickler as wou

        # torch.save writes protocol 2, which names Python 3 modules by
        # their Python 2 names (``__builtin__``); map them back first
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        key = f'{module}.{name}'
        allowed = _allowed_by_name()
        if key in allowed:
            return allowed[key]
        if key in wou._get_allowed_globals():
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'distill3d weights-only loading refuses the global {key!r}')


#: a pickle module for ``torch.load(pickle_module=...)`` on torch < 2.4
restricted_pickle = types.ModuleType('distill3d_restricted_pickle')
restricted_pickle.__dict__.update(
    {k: getattr(pickle, k) for k in dir(pickle) if not k.startswith('__')})
restricted_pickle.Unpickler = _RestrictedUnpickler


def load_weights_only(path: str,
                      map_location: Union[str, Any] = 'cpu') -> Any:
    """Read a checkpoint allowing only tensors and :func:`safe_globals`.

    Args:
        path (str): Local checkpoint file.
        map_location (str | torch.device): As for :func:`torch.load`.

    Returns:
        Any: The unpickled checkpoint (usually a dict).

    Raises:
        pickle.UnpicklingError: When the file references any other global.
    """
    if hasattr(torch.serialization, 'add_safe_globals'):
        register_safe_globals()
        return torch.load(path, map_location=map_location, weights_only=True)
    return torch.load(path, map_location=map_location,
                      pickle_module=restricted_pickle)


def register_safe_globals() -> None:
    """Add :func:`safe_globals` to torch's weights-only allow-list once."""
    global _REGISTERED
    if _REGISTERED or \
            not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4: nothing to register (see load_weights_only)
    torch.serialization.add_safe_globals(safe_globals())
    _REGISTERED = True
