# Copyright (c) distill3d contributors. All rights reserved.
"""M2SKD's teacher input: the scan plus hard-class instances of earlier scans.

For frame t of a SemanticKITTI sequence, every instance of a hard class
present in frame t is looked up in frames t-1 .. t-k; its points there are
brought into frame t with the sequence's poses and calib
(``p_t = inv(Tr) inv(Pose_t) Pose_j Tr p_j``) and, where the object moved,
aligned to the current instance (centroid shift, or the centroid shift
refined by point-to-point ICP). The fused points are appended after the
scan's points with their labels. A ``fused`` flag column rides along in
the points so that the following augmentations treat scan and fused points
alike; :class:`SplitFusedPoints` then separates the student's input (exactly
the scan's points) from the teacher's (scan + fused).
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from mmdet3d.registry import TRANSFORMS

#: mmdet3d names SemanticKITTI's learning class 4 'bus'; the benchmark (and
#: M2SKD) call it 'other-vehicle' (raw ids 13 bus, 16 on-rails, 20
#: other-vehicle and their moving variants 256, 257, 259)
CLASS_ALIASES = {'other-vehicle': 'bus'}
#: SemanticKITTI's thing (instance) classes, by mmdet3d's names
THING_CLASSES = ('car', 'bicycle', 'motorcycle', 'truck', 'bus', 'person',
                 'bicyclist', 'motorcyclist')
DEFAULT_HARD_CLASSES = ('bicycle', 'motorcycle', 'truck', 'other-vehicle',
                        'person', 'bicyclist', 'motorcyclist')
FUSED_ATTR = 'fused'


def semantickitti_class_names() -> Tuple[str, ...]:
    """mmdet3d's SemanticKITTI class names (``SemanticKittiDataset``)."""
    from mmdet3d.datasets import SemanticKittiDataset
    return tuple(SemanticKittiDataset.METAINFO['classes'])


def default_labels_map() -> Dict[int, int]:
    """mmdet3d's SemanticKITTI ``labels_map`` (raw id -> class index), read
    from its ``configs/_base_/datasets/semantickitti.py``."""
    from mmengine.config import Config
    from mmengine.utils import get_installed_path
    root = get_installed_path('mmdet3d')
    path = osp.join(root, '.mim', 'configs', '_base_', 'datasets',
                    'semantickitti.py')
    if not osp.isfile(path):  # source checkout of mmdet3d
        path = osp.join(osp.dirname(root), 'configs', '_base_', 'datasets',
                        'semantickitti.py')
    labels_map = Config.fromfile(path).labels_map
    return {int(k): int(v) for k, v in labels_map.items()}


def class_index(name: Union[str, int],
                class_names: Optional[Sequence[str]] = None) -> int:
    """Index of a class given by name (mmdet3d's or an alias) or index."""
    if isinstance(name, (int, np.integer)):
        return int(name)
    class_names = tuple(class_names or semantickitti_class_names())
    name = name if name in class_names else CLASS_ALIASES.get(name, name)
    if name not in class_names:
        raise ValueError(f'unknown hard classes [{name!r}]; known: '
                         f'{list(class_names)} and aliases '
                         f'{sorted(CLASS_ALIASES)}')
    return class_names.index(name)


def label_mapping_array(labels_map: Union[Dict[int, int], np.ndarray]
                        ) -> np.ndarray:
    """Raw id -> class index as an array (mmdet3d's ``seg_label_mapping``);
    ids a dict leaves out map to -1."""
    if isinstance(labels_map, dict):
        out = np.full(max(labels_map) + 1, -1, dtype=np.int64)
        for raw, idx in labels_map.items():
            out[int(raw)] = int(idx)
        return out
    return np.asarray(labels_map, dtype=np.int64)


def raw_ids_of_classes(
        labels_map: Union[Dict[int, int], np.ndarray],
        classes: Sequence[Union[str, int]],
        class_names: Optional[Sequence[str]] = None
) -> Dict[Union[str, int], Tuple[int, ...]]:
    """Every raw label id that the data set's ``labels_map`` sends to each
    class (static and moving variants, merged classes included).

    Args:
        labels_map (dict | np.ndarray): Raw id -> class index: the config's
            ``labels_map`` or the dataset's ``seg_label_mapping`` array.
        classes (Sequence[str | int]): Class names (mmdet3d's or
            :data:`CLASS_ALIASES`) or class indices.
        class_names (Sequence[str], optional): The data set's class names.
            Defaults to mmdet3d's SemanticKITTI names.

    Returns:
        dict: Class (as given) -> sorted raw ids.

    Raises:
        ValueError: For an unknown class or one no raw id maps to.
    """
    mapping = label_mapping_array(labels_map)
    out = {}
    for c in classes:
        ids = np.flatnonzero(mapping == class_index(c, class_names))
        if len(ids) == 0:
            raise ValueError(f'no raw label id maps to class {c!r} in the '
                             "data set's labels_map")
        out[c] = tuple(int(i) for i in ids)
    return out


def read_label_file(path: str, backend_args: Optional[dict] = None
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """Semantic (lower 16 bits) and instance ids (upper 16) of a .label."""
    raw = np.frombuffer(get(path, backend_args=backend_args),
                        dtype=np.uint32)
    return (raw & 0xFFFF).astype(np.int64), (raw >> 16).astype(np.int64)


def read_poses(path: str) -> np.ndarray:
    """(T, 4, 4) poses of a SemanticKITTI ``poses.txt``."""
    rows = np.loadtxt(path, dtype=np.float64, ndmin=2)
    poses = np.tile(np.eye(4), (len(rows), 1, 1))
    poses[:, :3, :4] = rows.reshape(-1, 3, 4)
    return poses


def read_calib_tr(path: str) -> np.ndarray:
    """The 4x4 ``Tr`` (velodyne -> camera 0) of a ``calib.txt``."""
    with open(path) as f:
        for line in f:
            key, _, vals = line.partition(':')
            if key.strip() == 'Tr':
                mat = np.eye(4)
                mat[:3, :4] = np.array(vals.split(), float).reshape(3, 4)
                return mat
    raise ValueError(f'{path} has no Tr line')


def icp_shift(src: np.ndarray, dst: np.ndarray, iters: int = 10
              ) -> np.ndarray:
    """Translation aligning ``src`` (M, 3) to ``dst`` (P, 3).

    Point-to-point ICP restricted to a translation, started at the centroid
    shift: each iteration matches every source point to its nearest
    destination point and moves by the mean residual.
    """
    shift = dst.mean(0) - src.mean(0)
    for _ in range(iters):
        moved = src + shift
        d2 = ((moved[:, None, :] - dst[None, :, :])**2).sum(-1)
        step = (dst[d2.argmin(1)] - moved).mean(0)
        shift = shift + step
        if np.linalg.norm(step) < 1e-4:
            break
    return shift


@TRANSFORMS.register_module()
class MultiScanHardInstanceFusion(BaseTransform):
    """Append hard-class instance points of earlier scans (M2SKD teacher).

    Place it right after ``LoadPointsFromFile`` and ``LoadAnnotations3D``
    (``dataset_type='semantickitti'``; raw SemanticKITTI labels) and before
    ``PointSegClassMapping``, the augmentations and
    :class:`SplitFusedPoints`. The data info must come from the standard
    SemanticKITTI layout (``sequences/<seq>/velodyne/<frame>.bin``,
    ``labels/``, ``poses.txt`` and ``calib.txt`` of the sequence).

    Required keys: ``points``, ``pts_semantic_mask`` (raw ids),
    ``lidar_points.lidar_path``, ``pts_semantic_mask_path``.
    Modified keys: ``points`` (scan then fused points, plus a ``fused``
    attribute column), ``pts_semantic_mask``. Added keys:
    ``pts_instance_mask`` (instance id of every point, 0 = none),
    ``num_fused_points``, ``num_scan_points`` (the scan's points come
    first; :class:`~distill3d.evaluation.ScanPointsSegMetric` scores them
    only).

    Args:
        num_prev (int): k, earlier frames searched. Defaults to 4.
        hard_classes (Sequence[str | int]): Classes whose instances are
            fused, by name (mmdet3d's or :data:`CLASS_ALIASES`) or class
            index. Their raw label ids (moving variants and merged classes
            included) come from the data set's ``labels_map``: the
            ``seg_label_mapping`` mmdet3d's ``Seg3DDataset`` puts in every
            sample, or ``labels_map`` below. Defaults to
            :data:`DEFAULT_HARD_CLASSES`.
        align (str): 'centroid' (shift the fused points of each earlier
            frame onto the current instance's centroid; released code),
            'icp' (centroid shift refined by translation-only ICP) or
            'none' (poses only).
        icp_iters (int): ICP iterations. Defaults to 10.
        min_points (int): Instances with fewer points in frame t are not
            fused (no reliable centroid). Defaults to 1.
        index_dir (str, optional): Read earlier frames' instance points
            from ``sequences/<seq>/<index_dir>/<frame>.npz`` (see
            :mod:`distill3d.datasets.instance_index`; built by
            ``projects/M2SKD/tools/build_instance_index.py``) instead of
            whole scans and label files. Defaults to None.
        mark_fused (bool): Add the ``fused`` column that
            :class:`SplitFusedPoints` needs. False gives plain scan + fused
            points, e.g. to train a multi-scan teacher. Defaults to True.
        labels_map (dict, optional): Raw id -> class index, used when a
            sample has no ``seg_label_mapping``. Defaults to None.
        class_names (Sequence[str], optional): The data set's class names,
            to resolve ``hard_classes`` given by name. Defaults to
            mmdet3d's SemanticKITTI names.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 num_prev: int = 4,
                 hard_classes: Sequence[str] = DEFAULT_HARD_CLASSES,
                 align: str = 'centroid',
                 icp_iters: int = 10,
                 min_points: int = 1,
                 index_dir: Optional[str] = None,
                 mark_fused: bool = True,
                 labels_map: Optional[Dict[int, int]] = None,
                 class_names: Optional[Sequence[str]] = None,
                 backend_args: Optional[dict] = None) -> None:
        if num_prev < 0:
            raise ValueError(f'num_prev must be >= 0, got {num_prev}')
        if align not in ('centroid', 'icp', 'none'):
            raise ValueError(f"align must be 'centroid', 'icp' or 'none', "
                             f'got {align!r}')
        self.class_ids = tuple(
            class_index(c, class_names) for c in hard_classes)
        self.num_prev = num_prev
        self.hard_classes = tuple(hard_classes)
        self.align = align
        self.icp_iters = icp_iters
        self.min_points = min_points
        self.index_dir = index_dir
        self.mark_fused = mark_fused
        self.backend_args = backend_args
        self.labels_map = labels_map
        self._lut_key: Optional[bytes] = None
        self.group_lut = np.full(1 << 16, -1, dtype=np.int64)
        self._seq_cache: 'OrderedDict[str, tuple]' = OrderedDict()

    def _update_groups(self, results: dict) -> None:
        """Raw id -> hard-class group from the sample's label mapping."""
        mapping = results.get('seg_label_mapping', self.labels_map)
        if mapping is None:
            raise KeyError(
                'MultiScanHardInstanceFusion needs the data set\'s label '
                "mapping: 'seg_label_mapping' in the sample (mmdet3d's "
                'Seg3DDataset adds it from metainfo=dict(seg_label_mapping='
                'labels_map)) or labels_map=... in the transform')
        mapping = label_mapping_array(mapping)
        key = mapping.tobytes()
        if key == self._lut_key:
            return
        # raw semantic id (16 bits) -> class group, -1 = not hard; moving
        # and static variants and merged classes share their class's group
        lut = np.full(1 << 16, -1, dtype=np.int64)
        for g, idx in enumerate(self.class_ids):
            ids = np.flatnonzero(mapping == idx)
            if len(ids) == 0:
                raise ValueError(
                    f'no raw label id maps to hard class '
                    f'{self.hard_classes[g]!r} (index {idx}) in the data '
                    "set's labels_map")
            lut[ids] = g
        self.group_lut, self._lut_key = lut, key

    @property
    def hard_raw_ids(self) -> np.ndarray:
        """Raw ids of the hard classes under the last label mapping."""
        return np.flatnonzero(self.group_lut >= 0)

    # ------------------------------------------------------------------ io
    def _sequence(self, seq_dir: str) -> Tuple[np.ndarray, np.ndarray]:
        """Poses and Tr of a sequence (cached)."""
        if seq_dir not in self._seq_cache:
            self._seq_cache[seq_dir] = (
                read_poses(osp.join(seq_dir, 'poses.txt')),
                read_calib_tr(osp.join(seq_dir, 'calib.txt')))
            while len(self._seq_cache) > 8:
                self._seq_cache.popitem(last=False)
        return self._seq_cache[seq_dir]

    def _instances_in(self, seq_dir: str, frame: int, num_feats: int,
                      wanted: List[Tuple[int, int]]) -> Dict[tuple, tuple]:
        """Points (M, C) and raw semantic ids (M, ) of ``wanted`` instances
        ((group, instance id) pairs) in an earlier frame of a sequence."""
        if self.index_dir is not None:
            return self._indexed_instances(seq_dir, frame, wanted)
        scan_path = osp.join(seq_dir, 'velodyne', f'{frame:06d}.bin')
        label_path = osp.join(seq_dir, 'labels', f'{frame:06d}.label')
        if not (osp.exists(scan_path) and osp.exists(label_path)):
            return {}
        pts = np.frombuffer(get(scan_path, backend_args=self.backend_args),
                            dtype=np.float32).reshape(-1, num_feats)
        sem, inst = read_label_file(label_path, self.backend_args)
        group = self.group_lut[sem]
        out = {}
        for key in wanted:
            sel = (group == key[0]) & (inst == key[1])
            if sel.any():
                out[key] = (pts[sel], sem[sel])
        return out

    def _indexed_instances(self, seq_dir: str, frame: int,
                           wanted: List[Tuple[int, int]]) -> Dict:
        from ..instance_index import load_frame_instances
        data = load_frame_instances(
            osp.join(seq_dir, self.index_dir, f'{frame:06d}.npz'))
        if data is None:
            return {}
        if 'raw_ids' not in data:
            raise ValueError(f'the instance index in {seq_dir} predates '
                             'raw-id indexing; rebuild it')
        missing = set(self.hard_raw_ids.tolist()) - \
            set(data['raw_ids'].tolist())
        if missing:
            raise ValueError(f'the instance index in {seq_dir} does not '
                             f'cover raw label ids {sorted(missing)}; '
                             'rebuild it')
        group = self.group_lut[data['sem']]
        out = {}
        for key in wanted:
            sel = (group == key[0]) & (data['inst'] == key[1])
            if sel.any():
                out[key] = (data['points'][sel], data['sem'][sel])
        return out

    # ----------------------------------------------------------- transform
    def transform(self, results: dict) -> dict:
        """Append the fused points; see the class docstring."""
        points = results['points']
        lidar_path = results['lidar_points']['lidar_path']
        label_path = results['pts_semantic_mask_path']
        sem, inst = read_label_file(label_path, self.backend_args)
        mask = np.asarray(results['pts_semantic_mask'])
        if len(sem) != len(points) or not np.array_equal(mask, sem):
            raise ValueError(
                'MultiScanHardInstanceFusion needs the raw SemanticKITTI '
                'labels of the scan: place it after LoadAnnotations3D('
                "dataset_type='semantickitti') and before "
                'PointSegClassMapping and any point filtering or sampling')
        self._update_groups(results)
        seq_dir = osp.dirname(osp.dirname(lidar_path))
        frame = int(osp.splitext(osp.basename(lidar_path))[0])
        num_feats = int(results['lidar_points'].get('num_pts_feats',
                                                    points.shape[1]))

        xyz = points.coord.numpy().astype(np.float64)
        group = self.group_lut[sem]
        keys, centroids = [], {}
        for g, i in set(zip(group[group >= 0].tolist(),
                            inst[group >= 0].tolist())):
            sel = (group == g) & (inst == i)
            if i > 0 and sel.sum() >= self.min_points:
                keys.append((g, i))
                centroids[(g, i)] = xyz[sel]
        keys.sort()

        fused_pts, fused_sem, fused_inst = [], [], []
        if keys and self.num_prev > 0 and frame > 0:
            poses, tr = None, None
            for j in range(frame - 1, max(frame - self.num_prev, 0) - 1, -1):
                found = self._instances_in(seq_dir, j, num_feats, keys)
                if not found:
                    continue
                if poses is None:
                    poses, tr = self._sequence(seq_dir)
                if max(frame, j) >= len(poses):
                    raise ValueError(f'{seq_dir}/poses.txt has {len(poses)}'
                                     f' poses, frame {max(frame, j)} needs '
                                     'more')
                rel = np.linalg.inv(tr) @ np.linalg.inv(poses[frame]) @ \
                    poses[j] @ tr
                for key in keys:
                    if key not in found:
                        continue
                    pts, psem = found[key]
                    p = pts[:, :3].astype(np.float64) @ rel[:3, :3].T + \
                        rel[:3, 3]
                    if self.align == 'centroid':
                        p += centroids[key].mean(0) - p.mean(0)
                    elif self.align == 'icp':
                        p += icp_shift(p, centroids[key], self.icp_iters)
                    out = np.array(pts, dtype=np.float32, copy=True)
                    out[:, :3] = p
                    fused_pts.append(out[:, :points.shape[1]])
                    fused_sem.append(psem)
                    fused_inst.append(np.full(len(p), key[1], np.int64))

        n_fused = int(sum(len(p) for p in fused_pts))
        flag = np.zeros((len(points) + n_fused, 1), np.float32)
        flag[len(points):] = 1
        data = points.tensor.numpy()
        if n_fused:
            data = np.concatenate([data] + fused_pts, 0)
            sem = np.concatenate([sem] + fused_sem)
            inst = np.concatenate([inst] + fused_inst)
        attrs = dict(points.attribute_dims or {})
        if self.mark_fused:
            attrs[FUSED_ATTR] = data.shape[1]
            data = np.concatenate([data, flag], 1)
        results['points'] = type(points)(
            data, points_dim=data.shape[1], attribute_dims=attrs or None)
        results['pts_semantic_mask'] = sem
        results['pts_instance_mask'] = inst
        results['num_fused_points'] = n_fused
        results['num_scan_points'] = len(points)
        if 'eval_ann_info' in results:
            results['eval_ann_info']['pts_semantic_mask'] = sem
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_prev={self.num_prev}, '
                f'hard_classes={self.hard_classes}, align={self.align!r}, '
                f'index_dir={self.index_dir!r}, '
                f'mark_fused={self.mark_fused})')


@TRANSFORMS.register_module()
class SplitFusedPoints(BaseTransform):
    """Split scan and fused points after the shared augmentations.

    The teacher's input is every point (scan + fused), the student's the
    scan points only, in their original order. The ``fused`` column is
    removed from both.

    Required keys: ``points`` with a ``fused`` attribute,
    ``pts_semantic_mask``, ``pts_instance_mask``.
    Modified keys: ``points``, ``pts_semantic_mask``, ``pts_instance_mask``
    (scan points only). Added keys: ``teacher_points``,
    ``teacher_pts_semantic_mask``, ``teacher_pts_instance_mask``.
    """

    def transform(self, results: dict) -> dict:
        points = results['points']
        attrs = dict(points.attribute_dims or {})
        if FUSED_ATTR not in attrs:
            raise KeyError('points have no fused column: put '
                           'MultiScanHardInstanceFusion before this')
        col = attrs.pop(FUSED_ATTR)
        data = points.tensor
        fused = data[:, col] > 0.5
        keep = [c for c in range(data.shape[1]) if c != col]
        attrs = {k: (v if v < col else v - 1) for k, v in attrs.items()}

        def make(rows):
            return type(points)(data[rows][:, keep],
                                points_dim=len(keep),
                                attribute_dims=attrs or None)

        student = (~fused).numpy()
        results['teacher_points'] = make(slice(None))
        results['points'] = make(~fused)
        for key in ('pts_semantic_mask', 'pts_instance_mask'):
            if key in results:
                results[f'teacher_{key}'] = results[key]
                results[key] = results[key][student]
        if 'eval_ann_info' in results and 'pts_semantic_mask' in results:
            results['eval_ann_info']['pts_semantic_mask'] = \
                results['pts_semantic_mask']
        return results
