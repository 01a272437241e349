"""A recorded module output together with the geometry it lives on."""
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import torch
from torch import Tensor

#: Record kinds and the layout of ``Record.tensor`` for each.
KINDS = {
    'dense': '(B, C, H, W) dense (BEV) feature map',
    'voxel': '(M, C) voxel/pillar features, coors (M, 4) = (batch, z, y, x)'
    ', num_points (M, )',
    'sparse': '(N, C) sparse-conv features, coors (N, 1 + ndim) indices',
    'points': '(B, C, N) point features, xyz (B, N, 3)',
    'tensor': 'any other tensor',
}


@dataclass
class Record:
    """One recorded output.

    Args:
        tensor (Tensor): The feature tensor, layout given by ``kind``.
        kind (str): One of :data:`KINDS`.
        coors (Tensor, optional): Voxel coordinates / sparse indices.
        num_points (Tensor, optional): (M, ) points per voxel.
        xyz (Tensor, optional): (B, N, 3) point coordinates.
        spatial_shape (list, optional): Sparse tensor spatial shape.
        batch_size (int, optional): Batch size of sparse / voxel records.
        bev_range (tuple, optional): (x_min, y_min, x_max, y_max) metric
            extent of a 'dense' BEV map (its model's voxelization range),
            used to resample a teacher map of another grid.
    """
    tensor: Tensor
    kind: str
    coors: Optional[Tensor] = None
    num_points: Optional[Tensor] = None
    xyz: Optional[Tensor] = None
    spatial_shape: Optional[List[int]] = None
    batch_size: Optional[int] = None
    bev_range: Optional[Tuple[float, float, float, float]] = None

    @property
    def channels(self) -> int:
        """Channel count (dim 1, or the last dim of (M, C) layouts)."""
        if self.kind in ('voxel', 'sparse') or self.tensor.dim() == 2:
            return self.tensor.shape[-1]
        return self.tensor.shape[1]


def _select(value: Any, path: Optional[List[Any]]) -> Any:
    for key in path or []:
        value = value[key]
    return value


def _is_sparse(value: Any) -> bool:
    return hasattr(value, 'features') and hasattr(value, 'indices') and \
        hasattr(value, 'spatial_shape')


def make_record(args: Tuple, output: Any, kind: Optional[str] = None,
                output_path: Optional[List[Any]] = None,
                xyz_path: Optional[List[Any]] = None) -> Record:
    """Turn a forward hook's inputs and output into a :class:`Record`.

    Args:
        args (tuple): Positional inputs of the module's forward.
        output (Any): Module output.
        kind (str, optional): Force a kind; inferred when None: sparse-conv
            tensors -> 'sparse'; (M, C) outputs of modules called as
            ``(features, num_points, coors)`` (voxel encoders) -> 'voxel';
            4-D -> 'dense'; 3-D -> 'points'; else 'tensor'.
        output_path (list, optional): Keys/indices selecting the tensor in
            a tuple/dict output, e.g. ``['fp_features', -1]``.
        xyz_path (list, optional): Keys/indices selecting point coordinates
            in the output, e.g. ``['fp_xyz', -1]``.

    Returns:
        Record: The record.
    """
    value = _select(output, output_path)
    if output_path is None and isinstance(value, (list, tuple)) and \
            len(value) == 1:
        value = value[0]  # e.g. mmdet3d necks return [feature]
    xyz = _select(output, xyz_path) if xyz_path else None
    if _is_sparse(value):
        return Record(
            value.features,
            kind or 'sparse',
            coors=value.indices,
            spatial_shape=list(value.spatial_shape),
            batch_size=value.batch_size)
    if not isinstance(value, Tensor):
        raise TypeError(
            f'recorded output is a {type(value).__name__}, not a tensor; '
            'select one with `output` (keys/indices into the output)')
    if kind is None:
        if value.dim() == 2 and len(args) >= 3 and isinstance(
                args[1], Tensor) and args[1].dim() == 1:
            kind = 'voxel'
        elif value.dim() == 4:
            kind = 'dense'
        elif value.dim() == 3:
            kind = 'points'
        else:
            kind = 'tensor'
    record = Record(value, kind, xyz=xyz)
    if kind == 'voxel' and len(args) >= 3:
        record.num_points, record.coors = args[1], args[2]
        record.batch_size = int(args[2][:, 0].max().item()) + 1 \
            if len(args[2]) else 0
    return record


def match_rows(coors_a: Tensor, coors_b: Tensor) -> Tuple[Tensor, Tensor]:
    """Indices of the rows shared by two integer coordinate tables.

    Args:
        coors_a (Tensor): (Na, D) integer coordinates.
        coors_b (Tensor): (Nb, D) integer coordinates.

    Returns:
        tuple[Tensor, Tensor]: ``idx_a``, ``idx_b`` (K, ) such that
        ``coors_a[idx_a] == coors_b[idx_b]`` row-wise (each shared row once).
    """
    if coors_a.shape == coors_b.shape and torch.equal(coors_a, coors_b):
        idx = torch.arange(len(coors_a), device=coors_a.device)
        return idx, idx
    both = torch.cat([coors_a, coors_b]).long()
    _, inverse = torch.unique(both, dim=0, return_inverse=True)
    inv_a, inv_b = inverse[:len(coors_a)], inverse[len(coors_a):]
    size = int(inverse.max().item()) + 1
    pos_b = torch.full((size, ), -1, dtype=torch.long, device=both.device)
    pos_b[inv_b] = torch.arange(len(coors_b), device=both.device)
    hit = pos_b[inv_a] >= 0
    idx_a = torch.nonzero(hit).squeeze(1)
    return idx_a, pos_b[inv_a[idx_a]]
