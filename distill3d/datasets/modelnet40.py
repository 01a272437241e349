# Copyright (c) distill3d contributors. All rights reserved.
"""ModelNet40 (``modelnet40_normal_resampled``) for point-cloud
classification."""
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path

from mmdet3d.registry import DATASETS
from .synthetic.modelnet40 import MODELNET40_CLASSES


def read_lines(path: str) -> List[str]:
    """Non-empty stripped lines of a text file."""
    with get_local_path(path) as local, open(local) as f:
        return [line.strip() for line in f if line.strip()]


@DATASETS.register_module()
class ModelNet40Dataset(BaseDataset):
    """ModelNet40 in the resampled layout PointNet++ released.

    ``data_root`` holds ``<class>/<shape id>.txt`` files (lines
    ``x,y,z,nx,ny,nz``), the class names file and the split files that list
    shape ids (``airplane_0001``); the class of a shape is its id without
    the trailing ``_NNNN``. ModelNet10 reads the same folder with
    ``ann_file='modelnet10_train.txt'`` and
    ``shape_names_file='modelnet10_shape_names.txt'``.

    Each data info holds ``lidar_points.lidar_path`` (the txt file, read by
    ``LoadPointsFromTxt``), ``gt_label`` (int), ``shape_id`` and
    ``sample_idx``.

    Args:
        data_root (str): The data set folder.
        ann_file (str): Split file relative to ``data_root``. Defaults to
            'modelnet40_train.txt'.
        shape_names_file (str): Class names file relative to
            ``data_root``; defines the labels (line order). Defaults to
            'modelnet40_shape_names.txt'.
        pipeline (list[dict]): Transforms.
        test_mode (bool): Test mode. Defaults to False.
        **kwargs: Other arguments of :class:`mmengine.dataset.BaseDataset`
            (``indices``, ``serialize_data``, ``lazy_init``...).
    """

    METAINFO = dict(classes=MODELNET40_CLASSES)

    def __init__(self,
                 data_root: str,
                 ann_file: str = 'modelnet40_train.txt',
                 shape_names_file: str = 'modelnet40_shape_names.txt',
                 pipeline: Optional[list] = None,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        self.shape_names_file = shape_names_file
        names_path = osp.join(data_root, shape_names_file)
        if metainfo is None and osp.isfile(names_path):
            metainfo = dict(classes=tuple(read_lines(names_path)))
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(pts=''),
            pipeline=pipeline or [],
            test_mode=test_mode,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One data info per shape id of the split file."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'ModelNet40 split file {self.ann_file!r} not found (ann_file'
                ' is relative to data_root; generate synthetic data with '
                '`python tools/create_synthetic_data.py modelnet40`)')
        classes = list(self.metainfo['classes'])
        label_of = {name: i for i, name in enumerate(classes)}
        data_list = []
        for shape_id in read_lines(self.ann_file):
            name = shape_id.rsplit('_', 1)[0]
            if name not in label_of:
                raise ValueError(
                    f'{self.ann_file}: shape {shape_id!r} has class {name!r}'
                    f', which is not among the {len(classes)} classes of '
                    f'{self.shape_names_file}')
            path = osp.join(self.data_root, name, shape_id + '.txt')
            data_list.append(
                dict(lidar_points=dict(lidar_path=path),
                     gt_label=label_of[name],
                     shape_id=shape_id,
                     sample_idx=len(data_list)))
        return data_list
