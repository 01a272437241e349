"""CPU mmcv sparse convolution (spconv 1.x API) against dense convolution.

mmcv's weights are (*kernel, C_in, C_out) and its convolution is a
correlation: output voxel o receives input o * stride - padding + k *
dilation through kernel offset k. Submanifold layers output only at the
active input voxels and always pad by k // 2. Transposed and inverse
layers scatter input o to o * stride - padding + k * dilation.
"""
import itertools

import pytest
import torch
import torch.nn.functional as F

import distill3d  # noqa: F401
from mmcv.ops import (SparseConv2d, SparseConv3d, SparseConvTensor,
                      SparseConvTranspose3d, SparseInverseConv3d, SubMConv2d,
                      SubMConv3d)
from mmcv.ops.sparse_conv import SubMConv4d
from mmcv.ops.sparse_ops import get_indice_pairs

SHAPE = (5, 6, 7)
BATCH = 2


def _sparse_input(shape=SHAPE, batch=BATCH, per_sample=20, channels=3):
    """Random unique active voxels (int32 (N, 1 + ndim)) and features."""
    rows = []
    volume = int(torch.tensor(shape).prod())
    for b in range(batch):
        flat = torch.randperm(volume)[:per_sample]
        coords = []
        for size in reversed(shape):
            coords.append(flat % size)
            flat = flat // size
        coords = torch.stack(coords[::-1], dim=1)
        rows.append(torch.cat([torch.full((per_sample, 1), b), coords], 1))
    indices = torch.cat(rows).int()
    feats = torch.randn(indices.shape[0], channels)
    return feats, indices


def _to_dense(feats, indices, shape, batch=BATCH):
    """(B, C, *shape) dense tensor, differentiable w.r.t. ``feats``."""
    dense = feats.new_zeros(batch, *shape, feats.shape[1])
    dense = dense.index_put(tuple(indices.long().t()), feats)
    return dense.movedim(-1, 1)


def _gather(dense, indices):
    """Features (N, C) of a dense (B, C, *shape) tensor at ``indices``."""
    return dense.movedim(1, -1)[tuple(indices.long().t())]


def _dense_weight(weight):
    """mmcv (*k, Cin, Cout) -> torch conv (Cout, Cin, *k)."""
    nd = weight.dim() - 2
    return weight.permute(nd + 1, nd, *range(nd))


def _conv(nd):
    return getattr(F, f'conv{nd}d')


def _subm_reference(feats, indices, shape, weight, bias, ksize, dilation=1):
    """Submanifold conv: pad k // 2 before and (k - 1) * d - k // 2 after,
    so that out[o] = sum_k in[o - k // 2 + k * d] at every active o."""
    nd = len(shape)
    dense = _to_dense(feats, indices, shape)
    pad = []
    for k in reversed(ksize):
        pad += [k // 2, (k - 1) * dilation - k // 2]
    out = _conv(nd)(F.pad(dense, pad), _dense_weight(weight),
                    dilation=dilation)
    assert tuple(out.shape[2:]) == tuple(shape)
    out = _gather(out, indices)
    return out + bias if bias is not None else out


def _sorted_rows(indices):
    """Permutation that sorts (N, 1 + ndim) indices lexicographically."""
    keys = [tuple(r) for r in indices.tolist()]
    return sorted(range(len(keys)), key=keys.__getitem__)


def _ref_active_outputs(indices, shape_out, ksize, stride, padding,
                        transposed=False):
    """Active output voxels of a regular / transposed sparse conv."""
    out = set()
    for row in indices.tolist():
        b, pos = row[0], row[1:]
        for k in itertools.product(*[range(s) for s in ksize]):
            o = []
            for i, kk, s, p, size in zip(pos, k, stride, padding, shape_out):
                if transposed:
                    v = i * s - p + kk
                else:
                    if (i + p - kk) % s:
                        break
                    v = (i + p - kk) // s
                if not 0 <= v < size:
                    break
                o.append(v)
            else:
                out.add((b, *o))
    return sorted(out)


def _mmcv_layer(cls, *args, **kwargs):
    layer = cls(*args, **kwargs)
    with torch.no_grad():  # mmcv's reset_parameters leaves a zero-ish bias
        if layer.bias is not None:
            layer.bias.normal_()
    return layer


@pytest.mark.parametrize('ksize,padding,dilation', [
    ((3, 3, 3), 1, 1),
    ((1, 3, 3), 1, 1),  # Cylinder3D's asymmetric kernels, padding=1
    ((3, 1, 3), 1, 1),
    ((3, 3, 1), (1, 1, 0), 1),
    ((3, 3, 3), 0, 1),  # the configured padding is ignored (k // 2)
    ((5, 3, 3), 3, 1),
    ((3, 3, 3), 1, 2),  # dilation keeps the k // 2 padding
])
def test_subm_conv3d_forward_backward(ksize, padding, dilation):
    feats, indices = _sparse_input()
    feats.requires_grad_(True)
    layer = _mmcv_layer(
        SubMConv3d, 3, 4, ksize, padding=padding, dilation=dilation,
        indice_key='subm')
    out = layer(SparseConvTensor(feats, indices, SHAPE, BATCH))
    assert torch.equal(out.indices, indices)
    assert list(out.spatial_shape) == list(SHAPE)
    ref = _subm_reference(feats, indices, SHAPE, layer.weight, layer.bias,
                          ksize, dilation)
    assert torch.allclose(out.features, ref, atol=1e-5)
    # Gradients of features, weight and bias against the dense reference.
    grad = torch.randn_like(ref)
    params = [feats, layer.weight, layer.bias]
    got = torch.autograd.grad(out.features, params, grad)
    exp = torch.autograd.grad(ref, params, grad)
    for g, e in zip(got, exp):
        assert torch.allclose(g, e, atol=1e-4)


def test_subm_output_only_at_active_voxels_and_neighbours_matter():
    # A dense conv with padding k // 2 would give non-zero values at
    # inactive voxels; the sparse result keeps only the active ones, and
    # it differs from a 1x1 "centre only" product (neighbours contribute).
    feats, indices = _sparse_input(per_sample=60)
    layer = _mmcv_layer(SubMConv3d, 3, 4, 3, padding=1, bias=False)
    out = layer(SparseConvTensor(feats, indices, SHAPE, BATCH))
    centre = feats @ layer.weight[1, 1, 1]
    assert out.features.shape == (indices.shape[0], 4)
    assert (out.features - centre).abs().max() > 0.1


@pytest.mark.parametrize('ksize,stride,padding', [
    (3, 2, 1),
    (2, 2, 0),
    ((1, 3, 3), (1, 2, 2), (0, 1, 1)),
    (3, 1, 0),
])
def test_sparse_conv3d_forward_backward(ksize, stride, padding):
    feats, indices = _sparse_input()
    feats.requires_grad_(True)
    layer = _mmcv_layer(SparseConv3d, 3, 4, ksize, stride=stride,
                        padding=padding, indice_key='down')
    out = layer(SparseConvTensor(feats, indices, SHAPE, BATCH))
    k3 = [ksize] * 3 if isinstance(ksize, int) else list(ksize)
    s3 = [stride] * 3 if isinstance(stride, int) else list(stride)
    p3 = [padding] * 3 if isinstance(padding, int) else list(padding)
    dense = _to_dense(feats, indices, SHAPE)
    ref_dense = F.conv3d(dense, _dense_weight(layer.weight), stride=s3,
                         padding=p3)
    assert list(out.spatial_shape) == list(ref_dense.shape[2:])
    # Output voxels: exactly those reached by an active input.
    order = _sorted_rows(out.indices)
    got_idx = out.indices[order]
    ref_idx = _ref_active_outputs(indices, out.spatial_shape, k3, s3, p3)
    assert got_idx.tolist() == [list(r) for r in ref_idx]
    ref = _gather(ref_dense, got_idx) + layer.bias
    assert torch.allclose(out.features[order], ref, atol=1e-5)
    # Nothing is lost: the dense result is zero away from the outputs.
    mask = torch.zeros(ref_dense.shape[0], *ref_dense.shape[2:])
    mask[tuple(got_idx.long().t())] = 1
    assert (ref_dense.abs() * (1 - mask[:, None])).max() == 0
    grad = torch.randn_like(ref)
    params = [feats, layer.weight, layer.bias]
    got = torch.autograd.grad(out.features[order], params, grad)
    exp = torch.autograd.grad(ref, params, grad)
    for g, e in zip(got, exp):
        assert torch.allclose(g, e, atol=1e-4)


def test_sparse_inverse_conv3d_forward_backward():
    feats, indices = _sparse_input()
    feats.requires_grad_(True)
    down = _mmcv_layer(SparseConv3d, 3, 4, 3, stride=2, padding=1,
                       indice_key='pair')
    up = _mmcv_layer(SparseInverseConv3d, 4, 5, 3, indice_key='pair')
    mid = down(SparseConvTensor(feats, indices, SHAPE, BATCH))
    out = up(mid)
    # Back on the original voxels, in their order, and original shape.
    assert torch.equal(out.indices, indices)
    assert list(out.spatial_shape) == list(SHAPE)
    # Reference: a transposed dense conv of the (sparse) middle tensor.
    mid_dense = _to_dense(mid.features, mid.indices, mid.spatial_shape)
    size = [(m - 1) * 2 - 2 + 3 for m in mid.spatial_shape]
    out_pad = [s - z for s, z in zip(SHAPE, size)]
    ref_dense = F.conv_transpose3d(
        mid_dense, up.weight.permute(3, 4, 0, 1, 2), stride=2, padding=1,
        output_padding=out_pad)
    ref = _gather(ref_dense, indices) + up.bias
    assert torch.allclose(out.features, ref, atol=1e-5)
    grad = torch.randn_like(ref)
    params = [feats, down.weight, up.weight, up.bias]
    # Both paths share ``down``: keep its graph for the second call.
    got = torch.autograd.grad(out.features, params, grad, retain_graph=True)
    exp = torch.autograd.grad(ref, params, grad)
    for g, e in zip(got, exp):
        assert torch.allclose(g, e, atol=1e-4)


def test_sparse_conv_transpose3d_forward_backward():
    shape = (3, 4, 3)
    feats, indices = _sparse_input(shape=shape, per_sample=8)
    feats.requires_grad_(True)
    layer = _mmcv_layer(SparseConvTranspose3d, 3, 4, 3, stride=2,
                        padding=1)
    out = layer(SparseConvTensor(feats, indices, shape, BATCH))
    ref_dense = F.conv_transpose3d(
        _to_dense(feats, indices, shape), layer.weight.permute(3, 4, 0, 1, 2),
        stride=2, padding=1)
    assert list(out.spatial_shape) == list(ref_dense.shape[2:])
    order = _sorted_rows(out.indices)
    got_idx = out.indices[order]
    ref_idx = _ref_active_outputs(indices, out.spatial_shape, [3] * 3,
                                  [2] * 3, [1] * 3, transposed=True)
    assert got_idx.tolist() == [list(r) for r in ref_idx]
    ref = _gather(ref_dense, got_idx) + layer.bias
    assert torch.allclose(out.features[order], ref, atol=1e-5)
    grad = torch.randn_like(ref)
    params = [feats, layer.weight]
    got = torch.autograd.grad(out.features[order], params, grad)
    exp = torch.autograd.grad(ref, params, grad)
    for g, e in zip(got, exp):
        assert torch.allclose(g, e, atol=1e-4)


def test_shared_indice_key_reuses_first_rulebook():
    """Cylinder3D shares one indice_key between (1, 3, 3) and (3, 1, 3)
    SubMConv3d layers: mmcv builds the rulebook once, so the second layer
    applies its 9 weights along the first layer's (1, 3, 3) offsets."""
    feats, indices = _sparse_input(per_sample=60)
    first = _mmcv_layer(SubMConv3d, 3, 3, (1, 3, 3), padding=1,
                        indice_key='shared')
    second = _mmcv_layer(SubMConv3d, 3, 3, (3, 1, 3), padding=1,
                         indice_key='shared')
    x = SparseConvTensor(feats, indices, SHAPE, BATCH)
    y = first(x)
    z = second(y)
    assert 'shared' in z.indice_dict
    as_first = _subm_reference(y.features, indices, SHAPE,
                               second.weight.reshape(1, 3, 3, 3, 3),
                               second.bias, (1, 3, 3))
    own = _subm_reference(y.features, indices, SHAPE, second.weight,
                          second.bias, (3, 1, 3))
    assert torch.allclose(z.features, as_first, atol=1e-5)
    assert (z.features - own).abs().max() > 1e-2
    # A fresh tensor (no shared key) uses the layer's own geometry.
    fresh = second(SparseConvTensor(y.features, indices, SHAPE, BATCH))
    assert torch.allclose(fresh.features, own, atol=1e-5)


def test_rulebook_pairs_follow_the_geometry():
    _, indices = _sparse_input()
    ksize, stride, padding = [3, 2, 3], [2, 1, 2], [1, 0, 1]
    outids, pairs, counts = get_indice_pairs(indices, BATCH, list(SHAPE),
                                             ksize, stride, padding, 1, 0,
                                             False, False)
    assert pairs.shape == (18, 2, indices.shape[0])
    assert pairs.dtype == counts.dtype == outids.dtype == torch.int32
    seen = set()
    for k, off in enumerate(itertools.product(*[range(s) for s in ksize])):
        n = int(counts[k])
        assert (pairs[k, :, n:] == -1).all()
        for i, o in pairs[k, :, :n].t().tolist():
            src, dst = indices[i].tolist(), outids[o].tolist()
            assert src[0] == dst[0]
            assert all(x == y * s - p + kk for x, y, s, p, kk in zip(
                src[1:], dst[1:], stride, padding, off))
            seen.add((i, k))
    assert len(seen) == int(counts.sum())
    assert len({tuple(r) for r in outids.tolist()}) == outids.shape[0]


def test_subm_and_regular_conv2d():
    shape = (6, 7)
    feats, indices = _sparse_input(shape=shape, per_sample=15)
    layer = _mmcv_layer(SubMConv2d, 3, 4, (1, 3), padding=1)
    out = layer(SparseConvTensor(feats, indices, shape, BATCH))
    ref = _subm_reference(feats, indices, shape, layer.weight, layer.bias,
                          (1, 3))
    assert torch.allclose(out.features, ref, atol=1e-5)
    layer = _mmcv_layer(SparseConv2d, 3, 4, 3, stride=2, padding=1)
    out = layer(SparseConvTensor(feats, indices, shape, BATCH))
    ref_dense = F.conv2d(_to_dense(feats, indices, shape),
                         _dense_weight(layer.weight), stride=2, padding=1)
    ref = _gather(ref_dense, out.indices) + layer.bias
    assert torch.allclose(out.features, ref, atol=1e-5)


def test_subm_conv4d_with_unit_first_kernel():
    """A (1, 3, 3, 3) 4D submanifold conv is a 3D one per first index."""
    shape = (2, 4, 4, 4)
    feats, indices = _sparse_input(shape=shape, per_sample=30)
    layer = _mmcv_layer(SubMConv4d, 3, 4, (1, 3, 3, 3), padding=1)
    out = layer(SparseConvTensor(feats, indices, shape, BATCH))
    ref = torch.empty_like(out.features)
    for t in range(shape[0]):
        sel = indices[:, 1] == t
        idx3 = indices[sel][:, [0, 2, 3, 4]]
        ref[sel] = _subm_reference(feats[sel], idx3, shape[1:],
                                   layer.weight[0], layer.bias, (3, 3, 3))
    assert torch.allclose(out.features, ref, atol=1e-5)


@pytest.mark.parametrize('cls,kwargs', [(SubMConv3d, dict(padding=1)),
                                        (SparseConv3d,
                                         dict(stride=2, padding=1))])
def test_no_active_voxels(cls, kwargs):
    feats = torch.zeros(0, 3, requires_grad=True)
    indices = torch.zeros(0, 4, dtype=torch.int32)
    layer = cls(3, 4, 3, **kwargs)
    out = layer(SparseConvTensor(feats, indices, SHAPE, BATCH))
    assert out.features.shape == (0, 4)
    assert out.indices.shape == (0, 4)
    out.features.sum().backward()
    assert feats.grad.shape == (0, 3)
