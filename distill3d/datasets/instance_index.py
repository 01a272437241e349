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
        classes (K, ) str       class names the file covers

Built from the standard SemanticKITTI layout by
``projects/M2SKD/tools/build_instance_index.py``.
"""
import glob
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np

from .transforms.multi_scan_fusion import RAW_IDS, read_label_file

INDEX_DIR = 'instance_index'


def build_instance_index(data_root: str,
                         sequences: Optional[Sequence[str]] = None,
                         classes: Sequence[str] = tuple(RAW_IDS),
                         num_feats: int = 4,
                         index_dir: str = INDEX_DIR) -> Dict[str, int]:
    """Write the per-frame instance files of a SemanticKITTI root.

    Args:
        data_root (str): Folder holding ``sequences/``.
        sequences (Sequence[str], optional): Sequence names (e.g. '00');
            defaults to every sequence with labels.
        classes (Sequence[str]): Class names (keys of ``RAW_IDS``) whose
            instance points are kept. Defaults to all of them.
        num_feats (int): Float columns per point in the scans.
        index_dir (str): Sub-folder name in each sequence.

    Returns:
        dict: Frames indexed per sequence.
    """
    unknown = [c for c in classes if c not in RAW_IDS]
    if unknown:
        raise ValueError(f'unknown classes {unknown}')
    ids = np.array(sorted({i for c in classes for i in RAW_IDS[c]}))
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
                classes=np.array(list(classes)))
        done[seq] = len(labels)
    return done


def load_frame_instances(path: str) -> Optional[Dict[str, np.ndarray]]:
    """One frame's index file, or None when it does not exist."""
    if not osp.exists(path):
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}
