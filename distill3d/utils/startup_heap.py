# Copyright (c) distill3d contributors. All rights reserved.
"""Keep the objects made by imports out of Python's full garbage collections.

Importing mmdet3d with its models, mmdet, mmengine, torch and spconv leaves
about half a million Python objects behind (classes, functions, registry
entries), all alive until the process ends. Python's cycle collector walks
every one of them at each full collection, about 0.25-0.3 s on a 2-core CPU,
and mmengine and mmdet3d ask for full collections explicitly: mmengine's
``BaseDataset`` on every data set it builds (``gc.collect()`` when
serialising its data list) and mmdet3d's KITTI evaluation once per class,
so that a short training with validation spends more than a second in
them, and every evaluation subprocess of a study does it again.

:func:`freeze_startup_objects` collects once and then moves the survivors
to the collector's permanent generation (:func:`gc.freeze`, the Python
documentation's remedy for long-lived start-up objects): they are still
freed by reference counting, only cycle detection skips them. Objects made
afterwards (models, tensors, data) are collected as before. The
command-line tools call it after their imports; a library import does not,
since freezing is a decision about the whole process.
"""
import gc


def freeze_startup_objects() -> int:
    """Collect garbage, then exempt every object alive now from full
    garbage collections.

    Returns:
        int: The number of objects in the permanent generation afterwards.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
