# Copyright (c) distill3d contributors. All rights reserved.
"""Transforms of point-cloud classification: loading, sampling,
normalisation, augmentation and packing.

Between loading and packing ``results['points']`` is a float32 numpy array
(N, C): xyz in columns 0-2 and, for ModelNet40's resampled files, unit
normals in columns 3-5 (``with_normals=True`` makes the geometric
augmentations transform them too). ``results['gt_label']`` is the class
index.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmdet3d.registry import TRANSFORMS
from mmdet3d.structures import Det3DDataSample


def _normals(points: np.ndarray, with_normals: bool) -> Optional[slice]:
    if not with_normals:
        return None
    if points.shape[1] < 6:
        raise ValueError(f'with_normals=True needs points with >= 6 columns '
                         f'(xyz + normals), got {points.shape[1]}')
    return slice(3, 6)


@TRANSFORMS.register_module()
class LoadPointsFromTxt(BaseTransform):
    """Load a ``x,y,z[,nx,ny,nz,...]`` text file (ModelNet40 resampled).

    Reads ``results['lidar_points']['lidar_path']``.

    Args:
        use_dim (int | Sequence[int]): Columns kept: their number (the
            first ones) or their indices. Defaults to 6 (xyz + normals).
        delimiter (str): Column separator. Defaults to ','.
        max_rows (int, optional): Read at most this many lines (the real
            files have 10000 points; readers sample 1024). Defaults to None.
    """

    def __init__(self,
                 use_dim=6,
                 delimiter: str = ',',
                 max_rows: Optional[int] = None) -> None:
        self.use_dim = list(range(use_dim)) if isinstance(use_dim, int) \
            else list(use_dim)
        self.delimiter = delimiter
        self.max_rows = max_rows

    def transform(self, results: dict) -> dict:
        """Add ``points`` (N, len(use_dim)) float32."""
        path = results['lidar_points']['lidar_path']
        points = np.loadtxt(path, delimiter=self.delimiter,
                            dtype=np.float32, max_rows=self.max_rows,
                            ndmin=2)
        if points.shape[1] <= max(self.use_dim):
            raise ValueError(f'{path} has {points.shape[1]} columns, '
                             f'use_dim needs {max(self.use_dim) + 1}')
        results['points'] = np.ascontiguousarray(points[:, self.use_dim])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(use_dim={self.use_dim}, '
                f'delimiter={self.delimiter!r}, max_rows={self.max_rows})')


def furthest_point_sample_np(xyz: np.ndarray, num: int) -> np.ndarray:
    """Furthest point sampling of (N, 3) points from index 0.

    Returns:
        np.ndarray: (num, ) int64 indices.
    """
    out = np.zeros(num, dtype=np.int64)
    dist = np.full(len(xyz), np.inf)
    far = 0
    for i in range(num):
        out[i] = far
        dist = np.minimum(dist, ((xyz - xyz[far])**2).sum(1))
        far = int(dist.argmax())
    return out


@TRANSFORMS.register_module()
class ClsPointSample(BaseTransform):
    """Sample a fixed number of points.

    Args:
        num_points (int): Points kept.
        method (str): 'first' (the first ``num_points``, as PointNet++ reads
            the shuffled resampled files), 'random' (without replacement)
            or 'fps' (furthest point sampling from the first point).
            Defaults to 'first'.

    Clouds with fewer points are padded by repeating random points.
    Per-point ``pts_mask`` follows the points when present.
    """

    METHODS = ('first', 'random', 'fps')

    def __init__(self, num_points: int, method: str = 'first') -> None:
        if method not in self.METHODS:
            raise ValueError(f'method must be one of {self.METHODS}, got '
                             f'{method!r}')
        self.num_points = num_points
        self.method = method

    def transform(self, results: dict) -> dict:
        """Resample ``points`` to (num_points, C)."""
        points = results['points']
        num = len(points)
        if num < self.num_points:
            extra = np.random.choice(num, self.num_points - num)
            idx = np.concatenate([np.arange(num), extra])
        elif self.method == 'first':
            idx = np.arange(self.num_points)
        elif self.method == 'random':
            idx = np.random.choice(num, self.num_points, replace=False)
        else:
            idx = furthest_point_sample_np(points[:, :3], self.num_points)
        results['points'] = points[idx]
        if 'pts_mask' in results:
            results['pts_mask'] = results['pts_mask'][idx]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_points={self.num_points}, '
                f'method={self.method!r})')


@TRANSFORMS.register_module()
class ClsNormalizeUnitSphere(BaseTransform):
    """Centre xyz at the centroid and scale it into the unit sphere
    (PointNet++'s ``pc_normalize``); normals are unchanged."""

    def transform(self, results: dict) -> dict:
        """Normalise ``points[:, :3]``."""
        points = results['points'].copy()
        xyz = points[:, :3] - points[:, :3].mean(0)
        scale = np.linalg.norm(xyz, axis=1).max()
        points[:, :3] = xyz / max(scale, 1e-12)
        results['points'] = points
        return results


@TRANSFORMS.register_module()
class ClsRandomScaleTranslate(BaseTransform):
    """Anisotropic random scaling and translation (PointNet++ / DGCNN
    training augmentation).

    Args:
        scale_range (tuple[float]): Per-axis scale range. Defaults to
            (2/3, 3/2).
        translate (float): Max absolute shift per axis. Defaults to 0.2.
        with_normals (bool): Columns 3-5 are normals (transformed by the
            inverse scale and renormalised). Defaults to False.
    """

    def __init__(self,
                 scale_range: Tuple[float, float] = (2. / 3., 3. / 2.),
                 translate: float = 0.2,
                 with_normals: bool = False) -> None:
        self.scale_range = tuple(scale_range)
        self.translate = translate
        self.with_normals = with_normals

    def transform(self, results: dict) -> dict:
        """Scale and shift ``points``."""
        points = results['points'].copy()
        scale = np.random.uniform(*self.scale_range, size=3)
        shift = np.random.uniform(-self.translate, self.translate, size=3)
        points[:, :3] = points[:, :3] * scale + shift
        cols = _normals(points, self.with_normals)
        if cols is not None:
            nrm = points[:, cols] / scale
            points[:, cols] = nrm / np.maximum(
                np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
        results['points'] = points.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale_range={self.scale_range}, '
                f'translate={self.translate}, '
                f'with_normals={self.with_normals})')


@TRANSFORMS.register_module()
class ClsRandomRotate(BaseTransform):
    """Random rotation about one axis (normals rotate with the points).

    Args:
        angle_range (tuple[float]): Angle range in radians. Defaults to
            (-pi, pi).
        axis (int): Rotation axis: 0, 1 or 2 (z, the up axis of ModelNet40
            as written by the synthetic generator). Defaults to 2.
        with_normals (bool): Columns 3-5 are normals. Defaults to False.
    """

    def __init__(self,
                 angle_range: Tuple[float, float] = (-np.pi, np.pi),
                 axis: int = 2,
                 with_normals: bool = False) -> None:
        if axis not in (0, 1, 2):
            raise ValueError(f'axis must be 0, 1 or 2, got {axis}')
        self.angle_range = tuple(angle_range)
        self.axis = axis
        self.with_normals = with_normals

    def transform(self, results: dict) -> dict:
        """Rotate ``points``."""
        points = results['points'].copy()
        angle = np.random.uniform(*self.angle_range)
        c, s = np.cos(angle), np.sin(angle)
        i, j = [a for a in (0, 1, 2) if a != self.axis]
        rot = np.eye(3)
        rot[i, i], rot[i, j], rot[j, i], rot[j, j] = c, -s, s, c
        points[:, :3] = points[:, :3] @ rot.T
        cols = _normals(points, self.with_normals)
        if cols is not None:
            points[:, cols] = points[:, cols] @ rot.T
        results['points'] = points.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(angle_range={self.angle_range}, '
                f'axis={self.axis}, with_normals={self.with_normals})')


@TRANSFORMS.register_module()
class ClsRandomJitter(BaseTransform):
    """Clipped Gaussian jitter of xyz.

    Args:
        std (float): Noise std. Defaults to 0.01.
        clip (float): Noise clip. Defaults to 0.05.
    """

    def __init__(self, std: float = 0.01, clip: float = 0.05) -> None:
        self.std = std
        self.clip = clip

    def transform(self, results: dict) -> dict:
        """Jitter ``points[:, :3]``."""
        points = results['points'].copy()
        noise = np.clip(np.random.normal(0, self.std, points[:, :3].shape),
                        -self.clip, self.clip)
        points[:, :3] += noise.astype(np.float32)
        results['points'] = points
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(std={self.std}, clip={self.clip})'


@TRANSFORMS.register_module()
class ClsRandomPointDropout(BaseTransform):
    """PointNet++'s random input dropout: a random share (up to
    ``max_ratio``) of the points is replaced by the first point, so that the
    number of points is kept.

    Args:
        max_ratio (float): Largest dropout ratio. Defaults to 0.875.
    """

    def __init__(self, max_ratio: float = 0.875) -> None:
        if not 0 <= max_ratio < 1:
            raise ValueError(f'max_ratio must be in [0, 1), got {max_ratio}')
        self.max_ratio = max_ratio

    def transform(self, results: dict) -> dict:
        """Replace dropped points by the first one."""
        points = results['points'].copy()
        ratio = np.random.uniform(0, self.max_ratio)
        drop = np.random.uniform(size=len(points)) <= ratio
        points[drop] = points[0]
        results['points'] = points
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(max_ratio={self.max_ratio})'


@TRANSFORMS.register_module()
class PackPointClsInputs(BaseTransform):
    """Pack a classification sample for the classifier.

    Output: ``inputs = dict(points=Tensor (N, C))`` and ``data_samples`` a
    :class:`Det3DDataSample` whose ``gt_label`` is a (1, ) int64 tensor
    (absent when the sample has no label) and whose metainfo holds the
    ``meta_keys`` found in ``results``.

    Args:
        meta_keys (Sequence[str]): Meta keys copied. Defaults to
            ('sample_idx', 'shape_id', 'lidar_path').
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('sample_idx', 'shape_id',
                                             'lidar_path')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        """Pack ``points`` and ``gt_label``."""
        points = torch.from_numpy(
            np.ascontiguousarray(results['points'], dtype=np.float32))
        meta = {}
        for key in self.meta_keys:
            if key == 'lidar_path' and 'lidar_points' in results:
                meta[key] = results['lidar_points']['lidar_path']
            elif key in results:
                meta[key] = results[key]
        sample = Det3DDataSample(metainfo=meta)
        if results.get('gt_label', None) is not None:
            sample.gt_label = torch.tensor([int(results['gt_label'])],
                                           dtype=torch.long)
        return dict(inputs=dict(points=points), data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
