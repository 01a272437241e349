# Copyright (c) distill3d contributors. All rights reserved.
"""Data pipeline errors that name the frame's files.

A corrupt point file stops mmdet3d's ``LoadPointsFromFile`` with numpy's
``ValueError: buffer size must be a multiple of element size`` (or a
reshape error), which names no file. :func:`name_files_in_pipeline_errors`
wraps the data pipeline that every mmengine ``BaseDataset`` runs
(``mmengine.dataset.base_dataset.Compose``) so that an exception raised by
any transform keeps its type and traceback and gets the data sample's
files and the failing transform appended to its message. Applied when
distill3d is imported; the pipeline's results are unchanged.
"""
import functools
from typing import List

from mmengine.dataset import base_dataset

#: keys of a data info that hold file paths, as mmdet3d's datasets fill them
FILE_KEYS = ('lidar_path', 'pts_semantic_mask_path', 'pts_instance_mask_path',
             'img_path')


def sample_files(data: dict) -> List[str]:
    """File paths of a data info (top level, ``lidar_points``, images)."""
    found = []
    for node in (data, data.get('lidar_points') or {}):
        for key in FILE_KEYS:
            if isinstance(node.get(key), str):
                found.append(node[key])
    for img in (data.get('images') or {}).values():
        if isinstance(img, dict) and isinstance(img.get('img_path'), str):
            found.append(img['img_path'])
    return list(dict.fromkeys(found))


def _with_files(exc: BaseException, files: List[str], transform) -> None:
    note = (f' [distill3d: in {type(transform).__name__} of the data '
            f'sample with files {", ".join(files)}]')
    if exc.args and isinstance(exc.args[0], str):
        exc.args = (exc.args[0] + note, ) + exc.args[1:]
    elif hasattr(exc, 'add_note'):  # Python >= 3.11
        exc.add_note(note.strip())


def name_files_in_pipeline_errors() -> None:
    """Patch mmengine's dataset ``Compose`` once (idempotent)."""
    compose = base_dataset.Compose
    if getattr(compose.__call__, '_distill3d_names_files', False):
        return
    original = compose.__call__

    @functools.wraps(original)
    def __call__(self, data: dict):
        files = sample_files(data) if isinstance(data, dict) else []
        if not files:
            return original(self, data)
        for t in self.transforms:
            try:
                data = t(data)
            except Exception as exc:
                _with_files(exc, files, t)
                raise
            if data is None:
                return None
        return data

    __call__._distill3d_names_files = True
    compose.__call__ = __call__
