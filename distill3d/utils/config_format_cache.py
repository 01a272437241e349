# Copyright (c) distill3d contributors. All rights reserved.
"""Format each config text with yapf once per process, not at every use.

mmengine's ``Config.pretty_text`` writes the config as Python source and
passes it through yapf's ``FormatCode``, which takes 0.2-1.3 s on a 2-core
CPU for a model config (more for larger ones). A training run asks for it
again and again with the same config: the environment log, the config
dump, the visualizer's config file, :class:`RuntimeInfoHook` and every
checkpoint's meta, i.e. at least four times per run plus once per saved
checkpoint.

:func:`enable_config_format_cache` replaces the ``FormatCode`` that
:mod:`mmengine.config.config` calls by a memo keyed on its exact inputs
(the unformatted text and the style). ``FormatCode`` is a pure function of
those, so ``pretty_text`` returns exactly what it returned before; only
repeated formatting of an identical text is skipped. Nothing else in
mmengine or yapf changes. Set ``DISTILL3D_NO_CONFIG_FORMAT_CACHE=1`` to
keep mmengine as it is.
"""
import functools
import os
from collections import OrderedDict
from typing import Callable

#: texts kept per process (a run formats a handful of distinct configs)
MAX_ENTRIES = 32
#: what the memo did in this process: ``hits`` and ``misses``
STATS: dict = dict(hits=0, misses=0)


def _memoized(format_code: Callable) -> Callable:
    """Wrap yapf's ``FormatCode`` in a bounded memo on its inputs."""
    memo: OrderedDict = OrderedDict()

    @functools.wraps(format_code)
    def format_once(unformatted_source: str, *args, **kwargs):
        try:
            key = (unformatted_source, repr(args),
                   repr(sorted(kwargs.items())))
        except Exception:  # an argument without a usable repr
            return format_code(unformatted_source, *args, **kwargs)
        if key in memo:
            STATS['hits'] += 1
            memo.move_to_end(key)
            return memo[key]
        STATS['misses'] += 1
        result = format_code(unformatted_source, *args, **kwargs)
        memo[key] = result
        if len(memo) > MAX_ENTRIES:
            memo.popitem(last=False)
        return result

    format_once.distill3d_memo = True
    return format_once


def enable_config_format_cache() -> bool:
    """Memoize the yapf pass of mmengine's ``Config.pretty_text``.

    Returns:
        bool: Whether the memo is installed now (False when
        ``DISTILL3D_NO_CONFIG_FORMAT_CACHE=1``, when mmengine's config
        module has no ``FormatCode``, or when it is installed already).
    """
    if os.environ.get('DISTILL3D_NO_CONFIG_FORMAT_CACHE') == '1':
        return False
    from mmengine.config import config as config_module
    format_code = getattr(config_module, 'FormatCode', None)
    if format_code is None or getattr(format_code, 'distill3d_memo', False):
        return False
    config_module.FormatCode = _memoized(format_code)
    return True
