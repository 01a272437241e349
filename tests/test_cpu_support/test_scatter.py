"""CPU dynamic scatter through mmcv's public API."""
import pytest
import torch
from torch.autograd import gradcheck

import distill3d  # noqa: F401
from mmcv.ops import DynamicScatter, dynamic_scatter


def _ref_scatter(feats, coors, reduce):
    """Voxels in lexicographic coordinate order; points with a negative
    coordinate are dropped."""
    groups = {}
    for i, c in enumerate(coors.tolist()):
        if min(c) < 0:
            continue
        groups.setdefault(tuple(c), []).append(i)
    keys = sorted(groups)
    rows = []
    for key in keys:
        members = feats[groups[key]]
        if reduce == 'max':
            rows.append(members.max(0).values)
        elif reduce == 'sum':
            rows.append(members.sum(0))
        else:
            rows.append(members.mean(0))
    out = torch.stack(rows) if rows else feats.new_zeros(0, feats.shape[1])
    return out, torch.tensor(keys, dtype=coors.dtype).reshape(
        -1, coors.shape[1])


def _inputs(n=60, channels=4, dtype=torch.float32):
    feats = torch.randn(n, channels, dtype=dtype)
    coors = torch.randint(0, 3, (n, 3), dtype=torch.int32)
    coors[::7, 1] = -1  # dropped points
    return feats, coors


@pytest.mark.parametrize('reduce', ['max', 'sum', 'mean'])
def test_dynamic_scatter_forward(reduce):
    feats, coors = _inputs()
    out, out_coors = dynamic_scatter(feats, coors, reduce)
    ref, ref_coors = _ref_scatter(feats, coors, reduce)
    assert torch.equal(out_coors, ref_coors)
    assert out_coors.dtype == torch.int32
    assert torch.allclose(out, ref, atol=1e-6)
    assert out.shape[0] < 27  # fewer voxels than cells: grouping happens


@pytest.mark.parametrize('reduce', ['max', 'sum', 'mean'])
def test_dynamic_scatter_gradcheck(reduce):
    feats, coors = _inputs(n=30, channels=3, dtype=torch.float64)
    feats.requires_grad_(True)
    assert gradcheck(lambda f: dynamic_scatter(f, coors, reduce)[0],
                     (feats, ))
    # Dropped points get no gradient.
    out, _ = dynamic_scatter(feats, coors, reduce)
    (grad, ) = torch.autograd.grad(out.sum(), feats)
    assert (grad[::7] == 0).all()


def test_dynamic_scatter_max_gradient_goes_to_lowest_index_on_ties():
    feats = torch.tensor([[1., 5.], [3., 5.], [3., 2.], [0., 7.]],
                         requires_grad=True)
    coors = torch.tensor([[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]],
                         dtype=torch.int32)
    out, _ = dynamic_scatter(feats, coors, 'max')
    assert out.tolist() == [[3., 5.], [0., 7.]]
    grad_out = torch.tensor([[10., 20.], [30., 40.]])
    (grad, ) = torch.autograd.grad(out, feats, grad_out)
    # Channel 0: points 1 and 2 tie at 3 -> point 1; channel 1: points 0
    # and 1 tie at 5 -> point 0.
    assert grad.tolist() == [[0., 20.], [10., 0.], [0., 0.], [30., 40.]]


def test_dynamic_scatter_mean_gradient_is_divided_by_count():
    feats = torch.ones(5, 1, requires_grad=True)
    coors = torch.tensor([[0, 0, 0]] * 4 + [[2, 0, 1]], dtype=torch.int32)
    out, _ = dynamic_scatter(feats, coors, 'mean')
    (grad, ) = torch.autograd.grad(out.sum(), feats)
    assert grad[:, 0].tolist() == [0.25] * 4 + [1.]


def test_dynamic_scatter_four_dim_coordinates_order():
    # Batch index first: ordering is lexicographic over all columns.
    coors = torch.tensor([[1, 0, 0, 0], [0, 2, 1, 0], [0, 2, 0, 5],
                          [1, 0, 0, 0], [0, 0, 9, 9]], dtype=torch.int32)
    feats = torch.arange(10.).reshape(5, 2)
    out, out_coors = dynamic_scatter(feats, coors, 'sum')
    assert out_coors.tolist() == [[0, 0, 9, 9], [0, 2, 0, 5], [0, 2, 1, 0],
                                  [1, 0, 0, 0]]
    assert out.tolist() == [[8., 9.], [4., 5.], [2., 3.], [6., 8.]]


@pytest.mark.parametrize('reduce', ['max', 'mean'])
def test_dynamic_scatter_empty_and_all_dropped(reduce):
    feats = torch.zeros(0, 3)
    coors = torch.zeros(0, 3, dtype=torch.int32)
    out, out_coors = dynamic_scatter(feats, coors, reduce)
    assert out.shape == (0, 3) and out_coors.shape == (0, 3)
    feats = torch.rand(4, 3, requires_grad=True)
    coors = -torch.ones(4, 3, dtype=torch.int32)
    out, out_coors = dynamic_scatter(feats, coors, reduce)
    assert out.shape == (0, 3) and out_coors.shape == (0, 3)
    (grad, ) = torch.autograd.grad(out.sum(), feats, allow_unused=True)
    assert grad is None or (grad == 0).all()


def test_dynamic_scatter_module_batched():
    """DynamicScatter splits (batch, z, y, x) coordinates per sample."""
    feats, coors3 = _inputs(n=40)
    batch = torch.cat([torch.zeros(20), torch.ones(20)]).int()[:, None]
    coors = torch.cat([batch, coors3], dim=1)
    module = DynamicScatter([1, 1, 1], [0, 0, 0, 3, 3, 3], True)
    out, out_coors = module(feats, coors)
    ref, ref_coors = _ref_scatter(feats, coors, 'mean')
    assert torch.equal(out_coors, ref_coors)
    assert torch.allclose(out, ref, atol=1e-6)
    module = DynamicScatter([1, 1, 1], [0, 0, 0, 3, 3, 3], False)
    out, _ = module(feats, coors3)
    assert torch.allclose(out, _ref_scatter(feats, coors3, 'max')[0])


def test_dynamic_scatter_rejects_unknown_reduce():
    feats, coors = _inputs(n=5)
    with pytest.raises(Exception):
        dynamic_scatter(feats, coors, 'min')
