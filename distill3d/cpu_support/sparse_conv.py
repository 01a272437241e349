"""CPU versions of mmcv's sparse convolution kernels (spconv 1.x API).

mmdet3d's Cylinder3D builds its backbone and head from mmcv's
``SubMConv3d`` / ``SparseConv3d`` / ``SparseInverseConv3d``, whose rulebook
(``get_indice_pairs``) and gather-GEMM-scatter (``indice_conv``) kernels
exist for CUDA only. These functions reproduce them in PyTorch with mmcv's
exact conventions (kernel-offset order, output-voxel order, submanifold
padding ``k // 2``, rulebook reuse through ``indice_key``), so the model,
its weights layout and its checkpoints stay mmcv's.
"""
from typing import List, Sequence

import torch

from .dispatch import route_ext_function


def _kernel_offsets(ksize: Sequence[int]) -> torch.Tensor:
    """(K, ndim) kernel offsets in row-major order (last dim fastest)."""
    grids = torch.meshgrid(*[torch.arange(k) for k in ksize], indexing='ij')
    return torch.stack([g.reshape(-1) for g in grids], dim=1)


def _linear(batch: torch.Tensor, pos: torch.Tensor,
            shape: torch.Tensor) -> torch.Tensor:
    """Row-major voxel key of (batch, pos) in a grid of ``shape``."""
    key = batch.clone()
    for j in range(pos.shape[-1]):
        key = key * shape[j] + pos[..., j]
    return key


def get_indice_pairs_cpu(indices: torch.Tensor, batch_size: int,
                         out_shape: Sequence[int],
                         spatial_shape: Sequence[int], ksize: Sequence[int],
                         stride: Sequence[int], padding: Sequence[int],
                         dilation: Sequence[int], out_padding: Sequence[int],
                         subm: int, transpose: int) -> List[torch.Tensor]:
    """Rulebook of a sparse convolution.

    Args:
        indices (torch.Tensor): (N, 1 + ndim) int32 active voxels
            (batch, spatial indices).
        batch_size (int): Batch size.
        out_shape (Sequence[int]): Output spatial shape.
        spatial_shape (Sequence[int]): Input spatial shape.
        ksize, stride, padding, dilation, out_padding (Sequence[int]):
            Convolution geometry per spatial dim.
        subm (int): 1 for submanifold convolution (output = input voxels,
            stride 1, padding ``k // 2``).
        transpose (int): 1 for transposed convolution.

    Returns:
        list[torch.Tensor]: output voxels (M, 1 + ndim) int32, rulebook
        (K, 2, N) int32 (row 0 input index, row 1 output index, -1 unused)
        and pairs per kernel offset (K, ) int32.
    """
    ndim = indices.shape[1] - 1
    if subm:
        stride = [1] * ndim
        padding = [k // 2 for k in ksize]
    idx = indices.long()
    num_in = idx.shape[0]
    offs = _kernel_offsets(ksize)
    num_k = offs.shape[0]
    shape_t = torch.tensor(list(out_shape), dtype=torch.long)
    s = torch.tensor(list(stride), dtype=torch.long)
    p = torch.tensor(list(padding), dtype=torch.long)
    d = torch.tensor(list(dilation), dtype=torch.long)
    pairs = torch.full((num_k, 2, num_in), -1, dtype=torch.int32)
    counts = torch.zeros(num_k, dtype=torch.int32)
    pos = idx[:, None, 1:]
    if transpose:
        out = pos * s - p + offs * d
        valid = torch.ones(out.shape[:2], dtype=torch.bool)
        # mmcv enumerates transposed offsets in descending order.
        k_order = num_k - 1 - torch.arange(num_k)
    else:
        num = pos + p - offs * d
        valid = (num % s == 0).all(-1)
        out = torch.div(num, s, rounding_mode='floor')
        k_order = torch.arange(num_k)
    valid &= ((out >= 0) & (out < shape_t)).all(-1)
    j_idx, k_idx = torch.nonzero(valid, as_tuple=True)
    # Enumeration order of mmcv's loops: input j, then offset order.
    order = torch.argsort(j_idx * num_k + k_order[k_idx], stable=True)
    j_idx, k_idx = j_idx[order], k_idx[order]
    keys = _linear(idx[j_idx, 0], out[j_idx, k_idx], shape_t)

    if subm:
        in_keys = _linear(idx[:, 0], idx[:, 1:], shape_t)
        sorted_keys, perm = torch.sort(in_keys, stable=True)
        # The last voxel written to a grid cell wins, as in mmcv.
        loc = torch.searchsorted(sorted_keys, keys, right=True) - 1
        loc_c = loc.clamp(min=0)
        found = (loc >= 0) & (sorted_keys[loc_c] == keys)
        j_idx, k_idx = j_idx[found], k_idx[found]
        out_id = perm[loc_c[found]]
        out_inds = indices
    else:
        uniq, inverse = torch.unique(keys, return_inverse=True)
        first = torch.full((uniq.numel(), ), keys.numel(), dtype=torch.long)
        first.scatter_reduce_(0, inverse, torch.arange(keys.numel()), 'amin')
        rank = torch.empty_like(first)
        rank[torch.argsort(first)] = torch.arange(first.numel())
        out_id = rank[inverse]
        ordered = uniq[torch.argsort(first)]
        coords = []
        rem = ordered
        for j in reversed(range(ndim)):
            coords.append(rem % shape_t[j])
            rem = torch.div(rem, shape_t[j], rounding_mode='floor')
        out_inds = torch.stack([rem] + coords[::-1], dim=1).int()

    by_k = torch.argsort(k_idx, stable=True)
    k_sorted = k_idx[by_k]
    counts_l = torch.bincount(k_sorted, minlength=num_k)
    starts = torch.cumsum(counts_l, 0) - counts_l
    slot = torch.arange(k_sorted.numel()) - starts[k_sorted]
    pairs[k_sorted, 0, slot] = j_idx[by_k].int()
    pairs[k_sorted, 1, slot] = out_id[by_k].int()
    counts.copy_(counts_l)
    return [out_inds, pairs, counts]


def indice_conv_forward_cpu(features: torch.Tensor, filters: torch.Tensor,
                            indice_pairs: torch.Tensor,
                            indice_num: torch.Tensor, num_act_out: int,
                            inverse: int, subm: int) -> torch.Tensor:
    """Sparse convolution by gather, matrix product and scatter-add.

    Args:
        features (torch.Tensor): (N, C_in) input voxel features.
        filters (torch.Tensor): (*ksize, C_in, C_out) mmcv-layout weights.
        indice_pairs (torch.Tensor): (K, 2, N) rulebook.
        indice_num (torch.Tensor): (K, ) pairs per offset.
        num_act_out (int): Number M of output voxels.
        inverse (int): 1 to swap the rulebook's input and output rows.
        subm (int): Unused (the rulebook already encodes it).

    Returns:
        torch.Tensor: (M, C_out) output features.
    """
    c_in, c_out = filters.shape[-2], filters.shape[-1]
    weight = filters.reshape(-1, c_in, c_out)
    output = features.new_zeros(int(num_act_out), c_out)
    src, dst = (1, 0) if inverse else (0, 1)
    for k, n in enumerate(indice_num.tolist()):
        if n <= 0:
            continue
        rows_in = indice_pairs[k, src, :n].long()
        rows_out = indice_pairs[k, dst, :n].long()
        output.index_add_(0, rows_out, features[rows_in] @ weight[k])
    return output


def indice_conv_backward_cpu(features: torch.Tensor, filters: torch.Tensor,
                             out_bp: torch.Tensor, indice_pairs: torch.Tensor,
                             indice_num: torch.Tensor, inverse: int,
                             subm: int) -> List[torch.Tensor]:
    """Gradients of :func:`indice_conv_forward_cpu`.

    Returns:
        list[torch.Tensor]: gradient of features (N, C_in) and of filters
        (same shape as ``filters``).
    """
    c_in, c_out = filters.shape[-2], filters.shape[-1]
    weight = filters.reshape(-1, c_in, c_out)
    grad_in = torch.zeros_like(features)
    grad_w = torch.zeros_like(weight)
    src, dst = (1, 0) if inverse else (0, 1)
    for k, n in enumerate(indice_num.tolist()):
        if n <= 0:
            continue
        rows_in = indice_pairs[k, src, :n].long()
        rows_out = indice_pairs[k, dst, :n].long()
        grad_out = out_bp[rows_out]
        grad_w[k] = features[rows_in].t() @ grad_out
        grad_in.index_add_(0, rows_in, grad_out @ weight[k].t())
    return [grad_in, grad_w.view(filters.shape)]


def register() -> None:
    """Route mmcv's sparse-conv kernels for CPU tensors."""
    for nd in (2, 3, 4):
        route_ext_function(f'get_indice_pairs_{nd}d_forward',
                           get_indice_pairs_cpu)
    route_ext_function('indice_conv_forward', indice_conv_forward_cpu)
    route_ext_function('indice_conv_backward', indice_conv_backward_cpu)
