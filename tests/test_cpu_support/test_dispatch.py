"""Installation and routing of the CPU-support layer."""
import importlib
import sys
import types

import numpy as np
import pytest
import torch

import distill3d
from distill3d import cpu_support
from distill3d.cpu_support import (ROUTED, boxes3d, dispatch, grouping,
                                   interpolate, kitti_rotate_iou,
                                   roipoint_pool3d, sampling, scatter,
                                   sparse_conv, spconv_cpu)

MODULES = (sampling, grouping, interpolate, boxes3d, scatter, roipoint_pool3d,
           sparse_conv)


def _resolve(name):
    """The installed object for a ``ROUTED`` entry."""
    if name.startswith('spconv.'):
        from spconv.pytorch.conv import SparseConvolution
        return SparseConvolution._conv_forward
    if name.startswith(kitti_rotate_iou.MODULE):
        return sys.modules[kitti_rotate_iou.MODULE]
    if name.startswith('mmcv._ext.'):
        from mmcv import _ext
        return getattr(_ext, name[len('mmcv._ext.'):])
    parts = name.split('.')
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f'cannot resolve {name}')


def _wrappers():
    return {name: _resolve(name) for name in ROUTED}


def test_every_routed_name_is_installed():
    assert len(ROUTED) >= 28
    assert len(set(ROUTED)) == len(ROUTED)
    for name, obj in _wrappers().items():
        if name.startswith(kitti_rotate_iou.MODULE) and \
                torch.cuda.is_available():
            continue
        assert getattr(obj, '_distill3d_cpu', False), name


def test_routes_are_the_objects_mmcv_calls():
    from mmcv import _ext
    from mmcv.ops import (furthest_point_sample, iou3d, knn,
                          points_in_boxes_all, points_in_boxes_part)
    from mmcv.ops.furthest_point_sample import FurthestPointSampling
    # mmcv's wrappers look functions up on the loaded extension module.
    assert iou3d.ext_module is _ext
    assert _ext.iou3d_nms3d_forward._distill3d_cpu
    # Functions copied by ``from ... import`` are rebound too.
    assert points_in_boxes_all._distill3d_cpu
    assert points_in_boxes_part._distill3d_cpu
    assert knn.__self__.forward._distill3d_cpu
    assert furthest_point_sample.__self__ is FurthestPointSampling
    assert FurthestPointSampling.forward._distill3d_cpu
    # The wrapped originals are mmcv's compiled functions, not wrappers.
    for name, obj in _wrappers().items():
        original = getattr(obj, '_distill3d_original', None)
        assert not getattr(original, '_distill3d_cpu', False), name


def test_enable_is_idempotent():
    before = list(ROUTED)
    objs = _wrappers()
    distill3d.enable_cpu_support()
    cpu_support.enable_cpu_support()
    # Even re-running every registration must not wrap twice.
    kitti_rotate_iou.register()
    for module in MODULES:
        module.register()
    spconv_cpu.register()
    assert ROUTED == before
    for name, obj in _wrappers().items():
        assert obj is objs[name], name


class _FakeCuda(torch.Tensor):
    """A CPU tensor that claims to live on a CUDA device."""

    @property
    def is_cuda(self):
        return True


def _fake_cuda(t):
    return t.as_subclass(_FakeCuda)


@pytest.fixture
def scratch_routes(monkeypatch):
    """Run route_* helpers without touching the real ROUTED list."""
    monkeypatch.setattr(dispatch, 'ROUTED', [])
    monkeypatch.setattr(dispatch, '_ANNOUNCED', True)
    return dispatch


def test_route_ext_function_dispatches_on_device(scratch_routes,
                                                 monkeypatch):
    from mmcv import _ext
    calls = []
    monkeypatch.setattr(_ext, 'distill3d_test_fn',
                        lambda x, k=0: calls.append(('orig', k)),
                        raising=False)
    scratch_routes.route_ext_function(
        'distill3d_test_fn', lambda x, k=0: calls.append(('cpu', k)))
    _ext.distill3d_test_fn(torch.zeros(2), k=1)
    _ext.distill3d_test_fn(_fake_cuda(torch.zeros(2)), k=2)
    _ext.distill3d_test_fn(torch.zeros(2), k=_fake_cuda(torch.zeros(1)))
    assert calls[:2] == [('cpu', 1), ('orig', 2)]
    assert calls[2][0] == 'orig'
    assert scratch_routes.ROUTED == ['mmcv._ext.distill3d_test_fn']
    wrapped = _ext.distill3d_test_fn
    scratch_routes.route_ext_function('distill3d_test_fn', lambda x: None)
    assert _ext.distill3d_test_fn is wrapped  # no double wrapping
    assert len(scratch_routes.ROUTED) == 1


def test_route_function_method_dispatches_on_device(scratch_routes):

    class Double(torch.autograd.Function):

        @staticmethod
        def forward(ctx, x, factor):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    def cpu_forward(ctx, x, factor):
        return x * factor

    scratch_routes.route_function_method(Double, 'forward', cpu_forward, 0)
    scratch_routes.route_function_method(Double, 'forward', cpu_forward, 0)
    x = torch.ones(3)
    assert Double.apply(x, 5.).tolist() == [5.] * 3
    assert Double.apply(_fake_cuda(x), 5.).tolist() == [2.] * 3
    assert len(scratch_routes.ROUTED) == 1


def test_route_module_function_rebinds_copies(scratch_routes, monkeypatch):

    def original(x):
        return 'orig'

    def other(x):
        return 'other'

    home = types.ModuleType('distill3d_fake_home')
    home.func = original
    user = types.ModuleType('distill3d_fake_user')
    user.func = original  # as after ``from distill3d_fake_home import func``
    unrelated = types.ModuleType('distill3d_fake_unrelated')
    unrelated.func = other
    for mod in (home, user, unrelated):
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
    scratch_routes.route_module_function('distill3d_fake_home', 'func',
                                         lambda x: 'cpu')
    assert home.func is user.func and home.func._distill3d_cpu
    assert unrelated.func is other
    assert home.func(torch.zeros(1)) == 'cpu'
    assert user.func(_fake_cuda(torch.zeros(1))) == 'orig'
    assert home.func._distill3d_original is original


def test_announce_logs_once(monkeypatch):
    import mmengine.logging
    messages = []
    monkeypatch.setattr(mmengine.logging, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    monkeypatch.setattr(dispatch, '_ANNOUNCED', False)
    from mmcv.ops import furthest_point_sample
    furthest_point_sample(torch.rand(1, 4, 3), 2)
    furthest_point_sample(torch.rand(1, 4, 3), 2)
    assert len(messages) == 1
    assert f'{len(ROUTED)} mmcv/spconv/mmdet3d functions' in messages[0]


def _empty_cases():
    """(name, callable, expected output shape) for inputs with nothing."""
    from mmcv.ops import (DynamicScatter, RoIPointPool3d, SparseConvTensor,
                          SubMConv3d, ball_query, boxes_iou3d,
                          boxes_overlap_bev, dynamic_scatter, gather_points,
                          grouping_operation, knn, nms3d, nms3d_normal,
                          points_in_boxes_all, points_in_boxes_part,
                          three_interpolate, three_nn)
    pts = torch.rand(2, 6, 3)
    no_pts = torch.zeros(2, 0, 3)
    boxes = torch.tensor([[0.5, 0.5, 0., 1., 1., 1., 0.3]]).repeat(2, 1, 1)
    no_boxes = torch.zeros(2, 0, 7)
    feats = torch.rand(2, 4, 6)
    idx0 = torch.zeros(2, 0, 3, dtype=torch.int32)
    conv = SubMConv3d(3, 4, 3)
    return [
        ('ball_query/no points',
         lambda: ball_query(0., 1., 4, no_pts, pts), (2, 6, 4)),
        ('ball_query/no centres',
         lambda: ball_query(0., 1., 4, pts, no_pts), (2, 0, 4)),
        ('stack ball_query/no points', lambda: ball_query(
            0., 1., 4, torch.zeros(0, 3), torch.rand(3, 3),
            torch.tensor([0], dtype=torch.int32),
            torch.tensor([3], dtype=torch.int32)), (3, 4)),
        ('knn/no centres', lambda: knn(2, pts, no_pts), (2, 2, 0)),
        ('grouping/no centres', lambda: grouping_operation(feats, idx0),
         (2, 4, 0, 3)),
        ('gather/no indices', lambda: gather_points(
            feats, torch.zeros(2, 0, dtype=torch.int32)), (2, 4, 0)),
        ('three_nn/no targets', lambda: three_nn(no_pts, pts)[0], (2, 0, 3)),
        ('three_interpolate/no targets', lambda: three_interpolate(
            feats, idx0, torch.zeros(2, 0, 3)), (2, 4, 0)),
        ('points_in_boxes_all/no boxes',
         lambda: points_in_boxes_all(pts, no_boxes), (2, 6, 0)),
        ('points_in_boxes_part/no boxes',
         lambda: points_in_boxes_part(pts, no_boxes), (2, 6)),
        ('points_in_boxes_all/no points',
         lambda: points_in_boxes_all(no_pts, boxes), (2, 0, 1)),
        ('points_in_boxes_part/no points',
         lambda: points_in_boxes_part(no_pts, boxes), (2, 0)),
        ('boxes_overlap_bev/no boxes',
         lambda: boxes_overlap_bev(boxes[0], no_boxes[0]), (1, 0)),
        ('boxes_iou3d/no boxes',
         lambda: boxes_iou3d(no_boxes[0], boxes[0]), (0, 1)),
        ('nms3d/no boxes',
         lambda: nms3d(no_boxes[0], torch.zeros(0), 0.5), (0, )),
        ('nms3d_normal/no boxes',
         lambda: nms3d_normal(no_boxes[0], torch.zeros(0), 0.5), (0, )),
        ('dynamic_scatter/no points', lambda: dynamic_scatter(
            torch.zeros(0, 4), torch.zeros(0, 3, dtype=torch.int32),
            'mean')[0], (0, 4)),
        ('DynamicScatter/no points', lambda: DynamicScatter(
            [1, 1, 1], [0, 0, 0, 1, 1, 1], False)(
                torch.zeros(0, 4), torch.zeros(0, 3, dtype=torch.int32))[0],
         (0, 4)),
        ('RoIPointPool3d/no boxes', lambda: RoIPointPool3d(5)(
            pts, feats.transpose(1, 2), no_boxes)[0], (2, 0, 5, 7)),
        ('RoIPointPool3d/no points', lambda: RoIPointPool3d(5)(
            no_pts, torch.zeros(2, 0, 4), boxes)[0], (2, 1, 5, 7)),
        ('SubMConv3d/no voxels', lambda: conv(
            SparseConvTensor(torch.zeros(0, 3),
                             torch.zeros(0, 4, dtype=torch.int32),
                             [4, 4, 4], 1)).features, (0, 4)),
        ('rotate_iou/no boxes', lambda: torch.from_numpy(
            kitti_rotate_iou.rotate_iou_cpu_eval(
                np.zeros((0, 5)), np.ones((2, 5)))), (0, 2)),
    ]


@pytest.mark.parametrize('case', range(len(_empty_cases())))
def test_empty_inputs_do_not_crash(case):
    name, func, shape = _empty_cases()[case]
    out = func()
    assert tuple(out.shape) == shape, name
    assert not out.is_cuda
