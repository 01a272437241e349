"""CPU three_nn / three_interpolate through mmcv's public API."""
import math

import pytest
import torch
from torch.autograd import gradcheck

import distill3d  # noqa: F401
from mmcv.ops import three_interpolate, three_nn


def _ref_three_nn(target, source):
    """Kernel rule: running best-three with strict ``<``, so equal
    distances keep index order; missing neighbours: 1e40 and index 0."""
    dists, idxs = [], []
    for b in range(target.shape[0]):
        src = source[b].tolist()
        drow, irow = [], []
        for u in target[b].tolist():
            best = [(1e40, 0)] * 3
            for k, p in enumerate(src):
                d = sum((x - y)**2 for x, y in zip(u, p))
                if d < best[0][0]:
                    best = [(d, k), best[0], best[1]]
                elif d < best[1][0]:
                    best = [best[0], (d, k), best[1]]
                elif d < best[2][0]:
                    best = [best[0], best[1], (d, k)]
            drow.append([math.sqrt(d) for d, _ in best])
            irow.append([k for _, k in best])
        dists.append(drow)
        idxs.append(irow)
    return (torch.tensor(dists, dtype=torch.float64),
            torch.tensor(idxs, dtype=torch.int32))


def test_three_nn_random():
    target = torch.rand(2, 20, 3)
    source = torch.rand(2, 9, 3)
    dist, idx = three_nn(target, source)
    assert dist.shape == idx.shape == (2, 20, 3)
    assert idx.dtype == torch.int32 and dist.dtype == torch.float32
    ref_d, ref_i = _ref_three_nn(target, source)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(dist.double(), ref_d, atol=1e-6)
    assert not (dist[..., 1:] < dist[..., :-1]).any()  # ascending


def test_three_nn_ties_keep_index_order():
    # Several source points at the same distance: lowest indices first.
    source = torch.tensor([[[1., 0., 0.], [0., 0., 0.], [0., 0., 0.],
                            [0., 0., 0.], [0., 0., 0.], [2., 0., 0.]]])
    target = torch.zeros(1, 1, 3)
    _, idx = three_nn(target, source)
    assert idx[0, 0].tolist() == [1, 2, 3]
    # A larger tie pattern on an exact grid.
    source = torch.randint(0, 3, (2, 40, 3)).float()
    target = torch.randint(0, 3, (2, 10, 3)).float()
    dist, idx = three_nn(target, source)
    ref_d, ref_i = _ref_three_nn(target, source)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(dist.double(), ref_d)


@pytest.mark.parametrize('num_source', [1, 2])
def test_three_nn_fewer_than_three_sources(num_source):
    target = torch.rand(1, 4, 3)
    source = torch.rand(1, num_source, 3)
    dist, idx = three_nn(target, source)
    ref_d, ref_i = _ref_three_nn(target, source)
    assert torch.equal(idx, ref_i)
    # float32 cannot hold 1e40: missing neighbours are at infinity.
    assert torch.isinf(dist[..., num_source:]).all()
    assert torch.allclose(dist[..., :num_source].double(),
                          ref_d[..., :num_source], atol=1e-6)


def _ref_three_interpolate(feats, idx, weight):
    b, c, _ = feats.shape
    n = idx.shape[1]
    out = torch.zeros(b, c, n, dtype=feats.dtype)
    for bi in range(b):
        for ni in range(n):
            for j in range(3):
                out[bi, :, ni] += feats[bi, :, idx[bi, ni, j]] * \
                    weight[bi, ni, j]
    return out


def test_three_interpolate_forward():
    feats = torch.rand(2, 4, 6)
    idx = torch.randint(0, 6, (2, 5, 3), dtype=torch.int32)
    weight = torch.rand(2, 5, 3)
    out = three_interpolate(feats, idx, weight)
    assert out.shape == (2, 4, 5)
    assert torch.allclose(out, _ref_three_interpolate(feats, idx, weight),
                          atol=1e-6)


def test_three_interpolate_gradcheck():
    feats = torch.rand(2, 3, 5, dtype=torch.float64, requires_grad=True)
    idx = torch.randint(0, 5, (2, 7, 3), dtype=torch.int32)
    idx[:, :, 1] = idx[:, :, 0]  # repeated neighbours accumulate
    weight = torch.rand(2, 7, 3, dtype=torch.float64)
    assert gradcheck(lambda f: three_interpolate(f, idx, weight), (feats, ))
    out = three_interpolate(feats, idx, weight)
    grad = torch.rand_like(out)
    (g, ) = torch.autograd.grad(out, feats, grad)
    (g_ref, ) = torch.autograd.grad(
        _ref_three_interpolate(feats, idx, weight), feats, grad)
    assert torch.allclose(g, g_ref)


def test_feature_propagation_pipeline():
    """PointNet++ FP: inverse-distance weights of the three neighbours."""
    target = torch.rand(2, 16, 3)
    source = torch.rand(2, 5, 3)
    feats = torch.rand(2, 4, 5)
    dist, idx = three_nn(target, source)
    w = 1.0 / (dist + 1e-8)
    w = w / w.sum(dim=2, keepdim=True)
    out = three_interpolate(feats, idx, w)
    ref_d, ref_i = _ref_three_nn(target, source)
    ref_w = 1.0 / (ref_d + 1e-8)
    ref_w = ref_w / ref_w.sum(dim=2, keepdim=True)
    ref = _ref_three_interpolate(feats.double(), ref_i, ref_w)
    assert torch.allclose(out.double(), ref, atol=1e-5)
