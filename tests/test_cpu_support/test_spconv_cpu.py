"""spconv 2.x layers on CPU (Native algorithm, bias after the conv).

spconv keeps KRSC weights (C_out, *kernel, C_in); its convolution is the
same correlation as torch's (submanifold: output at the active inputs,
padded by k // 2).
"""
import pytest
import torch
import torch.nn.functional as F

import distill3d  # noqa: F401

spconv = pytest.importorskip('spconv.pytorch')

SHAPE = (5, 6, 7)
BATCH = 2


def _sparse_input(per_sample=25, channels=3):
    rows = []
    for b in range(BATCH):
        flat = torch.randperm(SHAPE[0] * SHAPE[1] * SHAPE[2])[:per_sample]
        z = flat // (SHAPE[1] * SHAPE[2])
        y = (flat // SHAPE[2]) % SHAPE[1]
        x = flat % SHAPE[2]
        rows.append(torch.stack([torch.full_like(z, b), z, y, x], 1))
    indices = torch.cat(rows).int()
    return torch.randn(indices.shape[0], channels), indices


def _to_dense(feats, indices, shape):
    dense = feats.new_zeros(BATCH, *shape, feats.shape[1])
    dense = dense.index_put(tuple(indices.long().t()), feats)
    return dense.movedim(-1, 1)


def _gather(dense, indices):
    return dense.movedim(1, -1)[tuple(indices.long().t())]


def _dense_weight(weight):
    """spconv KRSC (Cout, kD, kH, kW, Cin) -> torch (Cout, Cin, k...)."""
    return weight.permute(0, 4, 1, 2, 3)


def _layer(cls, *args, train=True, **kwargs):
    layer = cls(*args, **kwargs)
    with torch.no_grad():
        layer.bias.normal_()  # spconv initialises the bias to zero
    return layer.train(train)


def _check_grads(out, ref, params):
    grad = torch.randn_like(ref)
    got = torch.autograd.grad(out, params, grad)
    exp = torch.autograd.grad(ref, params, grad)
    for g, e in zip(got, exp):
        assert torch.allclose(g, e, atol=1e-4)


@pytest.mark.parametrize('train', [True, False])
@pytest.mark.parametrize('ksize', [3, (1, 3, 3), (3, 1, 3)])
def test_subm_conv3d(train, ksize):
    feats, indices = _sparse_input()
    feats.requires_grad_(True)
    layer = _layer(spconv.SubMConv3d, 3, 4, ksize, padding=1, bias=True,
                   indice_key='subm', train=train)
    algo = layer.algo
    out = layer(spconv.SparseConvTensor(feats, indices, list(SHAPE), BATCH))
    assert layer.algo == algo  # the layer's own algorithm is restored
    k3 = [ksize] * 3 if isinstance(ksize, int) else list(ksize)
    assert layer.weight.shape == (4, *k3, 3)
    pad = []
    for k in reversed(k3):
        pad += [k // 2, k // 2]
    ref_dense = F.conv3d(F.pad(_to_dense(feats, indices, SHAPE), pad),
                         _dense_weight(layer.weight))
    assert torch.equal(out.indices, indices)
    ref = _gather(ref_dense, indices) + layer.bias
    assert torch.allclose(out.features, ref, atol=1e-5)
    # Backward works in both modes (eval is what failed on CPU before).
    _check_grads(out.features, ref, [feats, layer.weight, layer.bias])


@pytest.mark.parametrize('train', [True, False])
def test_sparse_conv3d_stride2(train):
    feats, indices = _sparse_input()
    feats.requires_grad_(True)
    layer = _layer(spconv.SparseConv3d, 3, 4, 3, stride=2, padding=1,
                   indice_key='down', train=train)
    out = layer(spconv.SparseConvTensor(feats, indices, list(SHAPE), BATCH))
    ref_dense = F.conv3d(_to_dense(feats, indices, SHAPE),
                         _dense_weight(layer.weight), stride=2, padding=1)
    assert list(out.spatial_shape) == list(ref_dense.shape[2:])
    # Every voxel reached by an active input, and only those.
    reach = F.conv3d(
        _to_dense(torch.ones(len(indices), 1), indices, SHAPE),
        torch.ones(1, 1, 3, 3, 3), stride=2, padding=1)[:, 0] > 0
    got = {tuple(r) for r in out.indices.tolist()}
    assert got == {tuple(r) for r in reach.nonzero().tolist()}
    assert len(got) == out.indices.shape[0]
    ref = _gather(ref_dense, out.indices) + layer.bias
    assert torch.allclose(out.features, ref, atol=1e-5)
    _check_grads(out.features, ref, [feats, layer.weight, layer.bias])


@pytest.mark.parametrize('train', [True, False])
def test_inverse_conv3d_and_shared_subm_key(train):
    feats, indices = _sparse_input()
    x = spconv.SparseConvTensor(feats, indices, list(SHAPE), BATCH)
    sub1 = _layer(spconv.SubMConv3d, 3, 3, 3, indice_key='s', train=train)
    sub2 = _layer(spconv.SubMConv3d, 3, 3, 3, indice_key='s', train=train)
    down = _layer(spconv.SparseConv3d, 3, 4, 3, stride=2, padding=1,
                  indice_key='d', train=train)
    up = _layer(spconv.SparseInverseConv3d, 4, 3, 3, indice_key='d',
                train=train)
    y = sub2(sub1(x))  # the second layer reuses the first's rulebook
    mid = down(y)
    out = up(mid)
    assert torch.equal(out.indices, indices)
    mid_dense = _to_dense(mid.features, mid.indices, mid.spatial_shape)
    size = [(m - 1) * 2 - 2 + 3 for m in mid.spatial_shape]
    ref_dense = F.conv_transpose3d(
        mid_dense, _dense_weight(up.weight).transpose(0, 1), stride=2,
        padding=1, output_padding=[s - z for s, z in zip(SHAPE, size)])
    ref = _gather(ref_dense, indices) + up.bias
    assert torch.allclose(out.features, ref, atol=1e-5)
    # The reused rulebook gives the same result as a fresh one.
    fresh = _layer(spconv.SubMConv3d, 3, 3, 3, train=train)
    fresh.load_state_dict(sub2.state_dict())
    y1 = sub1(x)
    assert torch.allclose(fresh(y1.replace_feature(y1.features)).features,
                          y.features, atol=1e-5)


def test_eval_mode_bias_added_once():
    feats, indices = _sparse_input()
    layer = _layer(spconv.SubMConv3d, 3, 4, 3, train=True)
    x = spconv.SparseConvTensor(feats, indices, list(SHAPE), BATCH)
    train_out = layer(x).features
    layer.eval()
    with torch.no_grad():
        eval_out = layer(x).features
    assert torch.allclose(train_out, eval_out, atol=1e-6)
    with torch.no_grad():
        layer.bias.add_(1.)
        shifted = layer(x).features
    assert torch.allclose(shifted - eval_out, torch.ones_like(eval_out),
                          atol=1e-5)


def test_sparse_max_pool_on_cpu_matches_dense_max_pool():
    """SparseMaxPool3d (Part-A2's RoI head) runs on CPU with native index
    pairs; every active output is the max over its active inputs, floored
    at 0 (spconv's native max pool starts from zeros; Part-A2 pools
    post-ReLU features, where this changes nothing)."""
    g = torch.Generator().manual_seed(0)
    coords = torch.unique(torch.randint(0, 6, (40, 3), generator=g), dim=0)
    indices = torch.cat([torch.zeros(len(coords), 1, dtype=torch.long),
                         coords], 1).int()
    feats = torch.randn(len(coords), 4, generator=g)
    x = spconv.SparseConvTensor(feats, indices, [6, 6, 6], 1)
    out = spconv.SparseMaxPool3d(kernel_size=2, stride=2)(x)
    assert len(out.indices) > 0
    dense = torch.full((1, 4, 6, 6, 6), -1e9)
    dense[0, :, coords[:, 0], coords[:, 1], coords[:, 2]] = feats.t()
    ref = F.max_pool3d(dense, 2)
    o = out.indices.long()
    torch.testing.assert_close(
        out.features, ref[0, :, o[:, 1], o[:, 2], o[:, 3]].t().clamp(min=0))
