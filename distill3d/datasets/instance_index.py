# Copyright (c) distill3d contributors. All rights reserved.
"""Per-frame index of thing-instance points for M2SKD's fusion.

``MultiScanHardInstanceFusion`` needs, for each training sample, the points
of a few instances in up to k earlier scans. Reading those whole scans and
label files costs k times the loading of the sample itself; the index keeps
only the points of instance classes, one small ``.npz`` per frame::

    sequences/<seq>/<index_dir>/<frame>.npz
        points (M, C) float32   the instance points (scan columns)
        sem    (M, )  int64     raw SemanticKITTI semantic ids
        inst   (M, )  int64     instance ids
        raw_ids (R, ) int64     raw semantic ids the file covers (every
                                id the labels_map sends to the classes)
        classes (K, ) str       the classes asked for

Built from the standard SemanticKITTI layout by
``projects/M2SKD/tools/build_instance_index.py``.
"""
import glob
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import numpy as np

from .transforms.multi_scan_fusion import (THING_CLASSES, default_labels_map,
                                           raw_ids_of_classes,
                                           read_label_file)

INDEX_DIR = 'instance_index'


def build_instance_index(data_root: str,
                         sequences: Optional[Sequence[str]] = None,
                         classes: Sequence[Union[str, int]] = THING_CLASSES,
                         num_feats: int = 4,
                         index_dir: str = INDEX_DIR,
                         labels_map: Optional[Dict[int, int]] = None,
                         class_names: Optional[Sequence[str]] = None
                         ) -> Dict[str, int]:
    """Write the per-frame instance files of a SemanticKITTI root.

    Args:
        data_root (str): Folder holding ``sequences/``.
        sequences (Sequence[str], optional): Sequence names (e.g. '00');
            defaults to every sequence with labels.
        classes (Sequence[str | int]): Classes (names or indices) whose
            instance points are kept; their raw ids come from
            ``labels_map``. Defaults to SemanticKITTI's thing classes.
        num_feats (int): Float columns per point in the scans.
        index_dir (str): Sub-folder name in each sequence.
        labels_map (dict, optional): Raw id -> class index of the data set
            (a config's ``labels_map``). Defaults to mmdet3d's SemanticKITTI
            ``labels_map``.
        class_names (Sequence[str], optional): The data set's class names.
            Defaults to mmdet3d's SemanticKITTI names.

    Returns:
        dict: Frames indexed per sequence.
    """
    per_class = raw_ids_of_classes(labels_map or default_labels_map(),
                                   classes, class_names)
    ids = np.array(sorted({i for v in per_class.values() for i in v}))
    seq_root = osp.join(data_root, 'sequences')
    if sequences is None:
        sequences = sorted(
            d for d in os.listdir(seq_root)
            if osp.isdir(osp.join(seq_root, d, 'labels')))
    done = {}
    for seq in sequences:
        out_dir = osp.join(seq_root, seq, index_dir)
        os.makedirs(out_dir, exist_ok=True)
        labels = sorted(glob.glob(osp.join(seq_root, seq, 'labels',
                                           '*.label')))
        for path in labels:
            frame = osp.splitext(osp.basename(path))[0]
            scan = np.fromfile(
                osp.join(seq_root, seq, 'velodyne', f'{frame}.bin'),
                dtype=np.float32).reshape(-1, num_feats)
            sem, inst = read_label_file(path)
            keep = np.isin(sem, ids) & (inst > 0)
            np.savez(
                osp.join(out_dir, f'{frame}.npz'),
                points=scan[keep],
                sem=sem[keep],
                inst=inst[keep],
                raw_ids=ids,
                classes=np.array([str(c) for c in classes]))
        done[seq] = len(labels)
    return done


def load_frame_instances(path: str) -> Optional[Dict[str, np.ndarray]]:
    """One frame's index file, or None when it does not exist."""
    if not osp.exists(path):
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
