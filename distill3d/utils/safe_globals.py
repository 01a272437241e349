"""Allow-list for loading mmengine checkpoints with ``weights_only=True``.

torch >= 2.6 loads checkpoints with its restricted unpickler by default.
mmengine 0.10.7 checkpoints hold numpy arrays, scalars and dtypes (runner
meta, dataset meta) and ``mmengine.logging.HistoryBuffer`` objects (message
hub), whose pickled state references ``HistoryBuffer.min`` etc. through
``builtins.getattr``. Instead of switching the restriction off, exactly
these types are allowed, and the name ``builtins.getattr`` is bound to
:func:`history_buffer_getattr`, which resolves nothing but HistoryBuffer's
statistics methods.
"""
from typing import Any, List

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
    multiarray = np._core.multiarray
    items += [multiarray._reconstruct, multiarray.scalar]
    # numpy 2 pickles dtypes by their classes, e.g. numpy.dtypes.Float64DType
    for name in dir(np.dtypes):
        obj = getattr(np.dtypes, name)
        if isinstance(obj, type) and issubclass(obj, np.dtype):
            items.append(obj)
    return items


def register_safe_globals() -> None:
    """Add :func:`safe_globals` to torch's weights-only allow-list once."""
    global _REGISTERED
    if _REGISTERED:
        return
    torch.serialization.add_safe_globals(safe_globals())
    _REGISTERED = True
