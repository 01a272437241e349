# Copyright (c) distill3d contributors. All rights reserved.
"""ScanObjectNN (the released ``h5_files``) for point-cloud
classification."""
import os.path as osp
from typing import List, Optional

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path

from mmdet3d.registry import DATASETS
from .synthetic.scanobjectnn import SCANOBJECTNN_CLASSES, variant_file


@DATASETS.register_module()
class ScanObjectNNDataset(BaseDataset):
    """ScanObjectNN's h5 files: ``data`` (N, 2048, 3), ``label`` (N, ).

    The file is chosen by ``ann_file`` (relative to ``data_root``) or, when
    ``ann_file`` is empty, by ``variant`` and ``test_mode``:

    ========== ===============================================================
    variant    file (training / test)
    ========== ===============================================================
    OBJ_ONLY   main_split_nobg/{training,test}_objectdataset.h5
    OBJ_BG     main_split/{training,test}_objectdataset.h5
    PB_T50_RS  main_split/{training,test}_objectdataset_augmentedrot_scale75.h5
    ========== ===============================================================

    The arrays are read once at build time; each data info holds
    ``points`` (2048, 3) float32, ``gt_label`` (int), ``sample_idx`` and,
    when the file has it, ``pts_mask`` (2048, ) (-1 marks background).
    Pipelines therefore need no loading transform.

    Args:
        data_root (str): Folder holding ``main_split`` etc.
        variant (str): 'OBJ_ONLY', 'OBJ_BG' or 'PB_T50_RS'. Defaults to
            'OBJ_BG'.
        ann_file (str): h5 file relative to ``data_root``; overrides
            ``variant``. Defaults to ''.
        pipeline (list[dict]): Transforms.
        test_mode (bool): Test split (and mode). Defaults to False.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(classes=SCANOBJECTNN_CLASSES)

    def __init__(self,
                 data_root: str,
                 variant: str = 'OBJ_BG',
                 ann_file: str = '',
                 pipeline: Optional[list] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        self.variant = variant
        if not ann_file:
            ann_file = variant_file(variant,
                                    'test' if test_mode else 'train')
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(pts=''),
            pipeline=pipeline or [],
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One data info per object of the h5 file."""
        import h5py
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'ScanObjectNN file {self.ann_file!r} not found (variant '
                f'{self.variant!r}; generate synthetic data with `python '
                'tools/create_synthetic_data.py scanobjectnn`)')
        with get_local_path(self.ann_file) as local, \
                h5py.File(local, 'r') as f:
            points = np.asarray(f['data'][:], dtype=np.float32)
            labels = np.asarray(f['label'][:]).reshape(-1).astype(np.int64)
            mask = np.asarray(f['mask'][:]) if 'mask' in f else None
        num_classes = len(self.metainfo['classes'])
        if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f'{self.ann_file}: labels must be in [0, {num_classes}), got '
                f'[{labels.min()}, {labels.max()}]')
        data_list = []
        for i in range(len(labels)):
            info = dict(points=points[i], gt_label=int(labels[i]),
                        sample_idx=i)
            if mask is not None:
                info['pts_mask'] = mask[i]
            data_list.append(info)
        return data_list
