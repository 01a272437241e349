"""CPU routes of the CPU-support layer against mmcv's CUDA kernels.

Each op runs on the same inputs as a CPU tensor (distill3d's pure-PyTorch
route) and as a CUDA tensor (mmcv's compiled kernel, which the CPU layer
leaves alone); the results must agree. Marked ``cuda``: skipped without a
GPU (CI has none); run with ``pytest -m cuda`` on a CUDA build of the
environment (``DISTILL3D_DEVICE=cuda bash tools/setup_env.sh``).
"""
import math

import pytest
import torch

import distill3d  # noqa: F401

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
]


def _both(fn, *args):
    """``fn`` on CPU tensors and on their CUDA copies (result on CPU)."""
    cpu = fn(*args)
    gpu = fn(*[a.cuda() if isinstance(a, torch.Tensor) else a
               for a in args])
    if isinstance(gpu, (tuple, list)):
        return cpu, type(gpu)(g.cpu() for g in gpu)
    return cpu, gpu.cpu()


def _boxes(n, spread=4.):
    g = torch.Generator().manual_seed(n)
    xy = torch.rand(n, 2, generator=g) * spread
    z = torch.rand(n, 1, generator=g) - 0.5
    size = torch.rand(n, 3, generator=g) * 2 + 0.5
    heading = (torch.rand(n, 1, generator=g) - 0.5) * 2 * math.pi
    return torch.cat([xy, z, size, heading], dim=1)


def test_furthest_point_sample():
    from mmcv.ops import furthest_point_sample
    xyz = torch.rand(2, 200, 3)
    cpu, gpu = _both(furthest_point_sample, xyz, 32)
    assert torch.equal(cpu, gpu)


def test_knn_ball_query_grouping_gather():
    from mmcv.ops import ball_query, gather_points, grouping_operation, knn
    xyz = torch.rand(2, 120, 3)
    centers = torch.rand(2, 20, 3)
    cpu, gpu = _both(lambda a, b: knn(8, a, b), xyz, centers)
    assert torch.equal(cpu, gpu)
    cpu, gpu = _both(lambda a, b: ball_query(0., 0.3, 16, a, b), xyz,
                     centers)
    assert torch.equal(cpu, gpu)
    feats = torch.rand(2, 5, 120)
    idx = torch.randint(0, 120, (2, 20, 16), dtype=torch.int32)
    cpu, gpu = _both(grouping_operation, feats, idx)
    torch.testing.assert_close(cpu, gpu)
    cpu, gpu = _both(gather_points, feats,
                     torch.randint(0, 120, (2, 20), dtype=torch.int32))
    torch.testing.assert_close(cpu, gpu)


def test_three_nn_and_interpolate():
    from mmcv.ops import three_interpolate, three_nn
    unknown, known = torch.rand(2, 50, 3), torch.rand(2, 20, 3)
    (d_cpu, i_cpu), (d_gpu, i_gpu) = _both(three_nn, unknown, known)
    assert torch.equal(i_cpu, i_gpu)
    torch.testing.assert_close(d_cpu, d_gpu)
    feats = torch.rand(2, 6, 20)
    weight = torch.rand(2, 50, 3)
    cpu, gpu = _both(three_interpolate, feats, i_cpu, weight)
    torch.testing.assert_close(cpu, gpu)


def test_points_in_boxes():
    from mmcv.ops import points_in_boxes_all, points_in_boxes_part
    points = torch.rand(2, 300, 3) * 4
    boxes = torch.stack([_boxes(6), _boxes(7)[:6]])
    for fn in (points_in_boxes_all, points_in_boxes_part):
        cpu, gpu = _both(fn, points, boxes)
        assert torch.equal(cpu, gpu), fn.__name__


@pytest.mark.parametrize('name', ['nms3d', 'nms3d_normal'])
def test_nms3d(name):
    import mmcv.ops
    fn = getattr(mmcv.ops, name)
    boxes, scores = _boxes(40, spread=3.), torch.rand(40)
    cpu, gpu = _both(lambda b, s: fn(b, s, 0.3), boxes, scores)
    assert torch.equal(cpu, gpu)


def test_boxes_overlap_bev():
    from mmcv.ops import boxes_overlap_bev
    cpu, gpu = _both(boxes_overlap_bev, _boxes(12), _boxes(9))
    torch.testing.assert_close(cpu, gpu, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('reduce', ['max', 'mean'])
def test_dynamic_scatter(reduce):
    from mmcv.ops import dynamic_scatter
    feats = torch.rand(300, 4)
    coors = torch.randint(0, 6, (300, 3), dtype=torch.int32)
    (f_cpu, c_cpu), (f_gpu, c_gpu) = _both(
        lambda f, c: dynamic_scatter(f, c, reduce), feats, coors)
    # same voxels, possibly in another order
    order_cpu = sorted(range(len(c_cpu)), key=lambda i: c_cpu[i].tolist())
    order_gpu = sorted(range(len(c_gpu)), key=lambda i: c_gpu[i].tolist())
    assert torch.equal(c_cpu[order_cpu], c_gpu[order_gpu])
    torch.testing.assert_close(f_cpu[order_cpu], f_gpu[order_gpu])


def test_roipoint_pool3d():
    from mmcv.ops import RoIPointPool3d
    points = torch.rand(1, 400, 3) * 4
    feats = torch.rand(1, 400, 5)
    boxes = _boxes(5)[None]
    pool = RoIPointPool3d(num_sampled_points=16)
    (p_cpu, e_cpu), (p_gpu, e_gpu) = _both(pool, points, feats, boxes)
    assert torch.equal(e_cpu, e_gpu)
    torch.testing.assert_close(p_cpu, p_gpu)


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_roiaware_pool3d(mode):
    """Part-A2's RoI-aware pooling, forward and the gradient to the
    point features."""
    from mmcv.ops import RoIAwarePool3d
    points = torch.rand(500, 3) * 4 - torch.tensor([0., 0., 1.])
    feats = torch.rand(500, 6)
    rois = _boxes(6)
    pool = RoIAwarePool3d(out_size=4, max_pts_per_voxel=5, mode=mode)
    weight = torch.rand(6, 4, 4, 4, 6)

    def run(p, f, r, w):
        f = f.clone().requires_grad_(True)
        out = pool(r, p, f)
        (out * w).sum().backward()
        return out.detach(), f.grad

    (o_cpu, g_cpu), (o_gpu, g_gpu) = _both(run, points, feats, rois, weight)
    torch.testing.assert_close(o_cpu, o_gpu)
    torch.testing.assert_close(g_cpu, g_gpu)
