# Copyright (c) distill3d contributors. All rights reserved.
"""Validate a data set on disk before a long run.

:func:`check_data` reads every info / split file of a KITTI,
SemanticKITTI, ModelNet40 or ScanObjectNN folder (mmdet3d's layouts, the
ones our synthetic generators write) and checks each file they name:
present, point files a whole number of points, label files one label per
point, class ids in range. It lists every bad file with the reason; it
does not stop at the first.
"""
import glob
import os.path as osp
import pickle
from dataclasses import dataclass
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import numpy as np

FORMATS = ('kitti', 'semantickitti', 'modelnet40', 'scanobjectnn')


@dataclass
class DataProblem:
    """One bad file: its path and what is wrong with it."""
    path: str
    reason: str

    def __str__(self) -> str:
        return f'{self.path}: {self.reason}'


@dataclass
class DataReport:
    """What :func:`check_data` read and what it found."""
    root: str
    format: str
    checked: Dict[str, int]
    problems: List[DataProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        counts = ', '.join(f'{n} {what}' for what, n in self.checked.items())
        head = (f'{self.root} ({self.format}): checked {counts or "nothing"};'
                f' {len(self.problems)} problem(s)')
        return '\n'.join([head] + [f'  {p}' for p in self.problems])


def _load_infos(path: str,
                problems: List[DataProblem]) -> Tuple[dict, List[dict]]:
    """``metainfo`` and ``data_list`` of an mmdet3d info pickle (empty and
    a problem when it cannot be read)."""
    try:
        with open(path, 'rb') as f:
            infos = pickle.load(f)
    except Exception as exc:  # any unreadable pickle is a finding
        problems.append(DataProblem(path, f'cannot be read: {exc}'))
        return {}, []
    if isinstance(infos, dict) and isinstance(infos.get('data_list'), list):
        return infos.get('metainfo', {}) or {}, infos['data_list']
    problems.append(DataProblem(path, 'not an mmdet3d 1.x info file (no '
                                "'data_list'; convert it with mmdet3d's "
                                'update_infos_to_v2.py)'))
    return {}, []


def _point_file(path: str, width: int,
                problems: List[DataProblem]) -> Optional[int]:
    """Number of points of a float32 point file (None if bad)."""
    if not osp.isfile(path):
        problems.append(DataProblem(path, 'missing'))
        return None
    size = osp.getsize(path)
    if size == 0 or size % (4 * width):
        problems.append(DataProblem(
            path, f'{size} bytes is not a whole number of points of '
            f'{width} float32 values ({4 * width} bytes each)'))
        return None
    return size // (4 * width)


def check_kitti(root: str, pts_prefix: str = 'training/velodyne_reduced',
                **_) -> DataReport:
    """KITTI as mmdet3d prepares it (``kitti_infos_*.pkl``).

    Checks every info entry's point file under ``root/pts_prefix``
    (``testing/...`` for the test split), its 3D box labels against the
    info file's categories, and every GT-database file of
    ``kitti_dbinfos_train.pkl`` (size = 16 bytes x ``num_points_in_gt``).
    """
    problems: List[DataProblem] = []
    checked = dict(info_files=0, frames=0, boxes=0, gt_database_files=0)
    info_files = sorted(glob.glob(osp.join(root, 'kitti_infos_*.pkl')))
    if not info_files:
        problems.append(DataProblem(osp.join(root, 'kitti_infos_*.pkl'),
                                    'no info file (run mmdet3d\'s '
                                    'create_data.py kitti)'))
    seen = set()
    for info_file in info_files:
        checked['info_files'] += 1
        meta, data_list = _load_infos(info_file, problems)
        valid = set(meta.get('categories', {}).values()) | {-1}
        prefix = pts_prefix.replace('training', 'testing') \
            if info_file.endswith('_test.pkl') else pts_prefix
        for info in data_list:
            lidar = info.get('lidar_points', {})
            path = osp.join(root, prefix, lidar.get('lidar_path', ''))
            if path in seen:
                continue
            seen.add(path)
            checked['frames'] += 1
            _point_file(path, lidar.get('num_pts_feats', 4), problems)
            for inst in info.get('instances', []):
                checked['boxes'] += 1
                label = inst.get('bbox_label_3d', -1)
                box = np.asarray(inst.get('bbox_3d', []), dtype=float)
                if len(valid) > 1 and label not in valid:
                    problems.append(DataProblem(
                        info_file, f'frame {info.get("sample_idx")}: box '
                        f'label {label} not among the categories '
                        f'{sorted(valid)}'))
                if box.shape != (7, ) or not np.isfinite(box).all():
                    problems.append(DataProblem(
                        info_file, f'frame {info.get("sample_idx")}: '
                        f'bbox_3d {box.tolist()} is not 7 finite values'))
    db_file = osp.join(root, 'kitti_dbinfos_train.pkl')
    if osp.isfile(db_file):
        with open(db_file, 'rb') as f:
            db = pickle.load(f)
        for infos in db.values():
            for info in infos:
                checked['gt_database_files'] += 1
                path = osp.join(root, info['path'])
                n = _point_file(path, 4, problems)
                expected = info.get('num_points_in_gt')
                if n is not None and expected is not None and n != expected:
                    problems.append(DataProblem(
                        path, f'{n} points, {db_file} says {expected}'))
    return DataReport(root, 'kitti', checked, problems)


def semantickitti_raw_ids() -> List[int]:
    """Raw label ids of mmdet3d's SemanticKITTI ``labels_map``."""
    from mmengine.hub import get_config
    cfg = get_config('mmdet3d::_base_/datasets/semantickitti.py')
    return sorted(int(k) for k in cfg.labels_map)


def check_semantickitti(root: str,
                        raw_ids: Optional[Iterable[int]] = None,
                        pts_prefix: str = '',
                        mask_prefix: str = '',
                        **_) -> DataReport:
    """SemanticKITTI as mmdet3d prepares it (``semantickitti_infos*.pkl``).

    Per frame: the scan is whole float32 points, the label file holds one
    uint32 per point, and every raw semantic id (low 16 bits) is a key of
    the ``labels_map`` (``raw_ids``; default mmdet3d's). Paths are
    ``root/pts_prefix/lidar_path`` and ``root/mask_prefix/
    pts_semantic_mask_path`` (the config's ``data_prefix``; empty for
    mmdet3d's converter, whose info paths start at ``sequences/``).
    """
    problems: List[DataProblem] = []
    checked = dict(info_files=0, frames=0, points=0)
    valid = np.asarray(sorted(raw_ids if raw_ids is not None else
                              semantickitti_raw_ids()))
    info_files = sorted(glob.glob(osp.join(root, 'semantickitti_infos*.pkl')))
    if not info_files:
        problems.append(DataProblem(
            osp.join(root, 'semantickitti_infos_*.pkl'),
            "no info file (run mmdet3d's create_data.py semantickitti)"))
    seen = set()
    for info_file in info_files:
        checked['info_files'] += 1
        for info in _load_infos(info_file, problems)[1]:
            lidar = info.get('lidar_points', {})
            path = osp.join(root, pts_prefix, lidar.get('lidar_path', ''))
            if path in seen:
                continue
            seen.add(path)
            checked['frames'] += 1
            n = _point_file(path, lidar.get('num_pts_feats', 4), problems)
            mask = info.get('pts_semantic_mask_path')
            if mask is None:
                continue  # test split: no labels
            mask = osp.join(root, mask_prefix, mask)
            if not osp.isfile(mask):
                problems.append(DataProblem(mask, 'missing'))
                continue
            size = osp.getsize(mask)
            if size % 4:
                problems.append(DataProblem(
                    mask, f'{size} bytes is not a whole number of uint32 '
                    'labels'))
                continue
            if n is not None and size // 4 != n:
                problems.append(DataProblem(
                    mask, f'{size // 4} labels for {n} points in {path}'))
            if n is not None:
                checked['points'] += n
            ids = np.unique(np.fromfile(mask, dtype=np.uint32) & 0xFFFF)
            bad = ids[~np.isin(ids, valid)]
            if len(bad):
                problems.append(DataProblem(
                    mask, f'raw ids {bad.tolist()} are not in labels_map'))
    return DataReport(root, 'semantickitti', checked, problems)


def check_modelnet40(root: str,
                     shape_names_file: str = 'modelnet40_shape_names.txt',
                     splits: Sequence[str] = ('modelnet40_train.txt',
                                              'modelnet40_test.txt'),
                     **_) -> DataReport:
    """ModelNet40 resampled (``<class>/<shape id>.txt``, x,y,z,nx,ny,nz)."""
    problems: List[DataProblem] = []
    checked = dict(split_files=0, shapes=0)
    names_path = osp.join(root, shape_names_file)
    if not osp.isfile(names_path):
        problems.append(DataProblem(names_path, 'missing'))
        return DataReport(root, 'modelnet40', checked, problems)
    with open(names_path) as f:
        names = {line.strip() for line in f if line.strip()}
    for split in splits:
        split_path = osp.join(root, split)
        if not osp.isfile(split_path):
            problems.append(DataProblem(split_path, 'missing'))
            continue
        checked['split_files'] += 1
        with open(split_path) as f:
            ids = [line.strip() for line in f if line.strip()]
        for shape_id in ids:
            checked['shapes'] += 1
            cls = shape_id.rsplit('_', 1)[0]
            path = osp.join(root, cls, f'{shape_id}.txt')
            if cls not in names:
                problems.append(DataProblem(
                    split_path, f'{shape_id}: class {cls!r} not in '
                    f'{shape_names_file}'))
            if not osp.isfile(path):
                problems.append(DataProblem(path, 'missing'))
                continue
            try:
                pts = np.loadtxt(path, delimiter=',', dtype=np.float32,
                                 ndmin=2)
            except ValueError as exc:
                problems.append(DataProblem(path, f'not numeric: {exc}'))
                continue
            if pts.shape[0] == 0 or pts.shape[1] != 6 or \
                    not np.isfinite(pts).all():
                problems.append(DataProblem(
                    path, f'shape {tuple(pts.shape)}: needs rows of 6 '
                    'finite values (x,y,z,nx,ny,nz)'))
    return DataReport(root, 'modelnet40', checked, problems)


def check_scanobjectnn(root: str, num_classes: int = 15,
                       **_) -> DataReport:
    """ScanObjectNN h5 files (``data`` (N, P, 3+), ``label`` (N, ))."""
    import h5py
    problems: List[DataProblem] = []
    checked = dict(h5_files=0, shapes=0)
    files = sorted(glob.glob(osp.join(root, '**', '*.h5'), recursive=True))
    if not files:
        problems.append(DataProblem(osp.join(root, '**', '*.h5'),
                                    'no h5 file'))
    for path in files:
        checked['h5_files'] += 1
        try:
            with h5py.File(path, 'r') as f:
                data, label = f['data'][...], f['label'][...].reshape(-1)
        except Exception as exc:  # unreadable / missing keys
            problems.append(DataProblem(path, f'cannot be read: {exc}'))
            continue
        checked['shapes'] += len(label)
        if data.ndim != 3 or data.shape[2] < 3 or len(data) != len(label):
            problems.append(DataProblem(
                path, f'data {data.shape} and label {label.shape}: needs '
                '(N, P, >=3) and (N, )'))
        elif not np.isfinite(data).all():
            problems.append(DataProblem(path, 'non-finite coordinates'))
        bad = np.unique(label[(label < 0) | (label >= num_classes)])
        if len(bad):
            problems.append(DataProblem(
                path, f'labels {bad.tolist()} outside [0, {num_classes})'))
    return DataReport(root, 'scanobjectnn', checked, problems)


CHECKERS: Dict[str, Callable[..., DataReport]] = dict(
    kitti=check_kitti,
    semantickitti=check_semantickitti,
    modelnet40=check_modelnet40,
    scanobjectnn=check_scanobjectnn)


def check_data(root: str, fmt: str, **kwargs) -> DataReport:
    """Check the data set at ``root`` in format ``fmt`` (see FORMATS).

    Args:
        root (str): The data set folder (a config's ``data_root``).
        fmt (str): One of :data:`FORMATS`.
        **kwargs: Options of the format's checker (``pts_prefix``,
            ``raw_ids``, ``shape_names_file``, ``num_classes``).

    Returns:
        DataReport: Counts of what was read and every problem found.
    """
    if fmt not in CHECKERS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'data root {root!r} is not a folder')
    return CHECKERS[fmt](root, **kwargs)
