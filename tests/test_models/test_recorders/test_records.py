"""Records and recorders on real mmdet3d / mmcv modules: record kinds and
their geometry, coordinate matching, channel inference, module lookup."""
import pytest
import torch
from mmcv.ops import SparseConvTensor, SubMConv3d, Voxelization
from mmengine.config import Config
from torch import nn

from distill3d.models.recorders import (KINDS, ModuleRecorder, RecordSpec,
                                        find_module, infer_out_channels,
                                        make_record, match_rows)
from helpers import config_path
from mmdet3d.registry import MODELS

PP = ('pointpillars/'
      'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')


@pytest.fixture(scope='module')
def pointpillars():
    """mmdet3d's PointPillars (KITTI 3-class), as in the repo config."""
    return MODELS.build(Config.fromfile(config_path(PP)).model)


def _hook_records(module, spec, *inputs):
    """Run ``module(*inputs)`` with a started recorder; return the record."""
    holder = nn.Module()
    holder.m = module
    rec = ModuleRecorder(holder, RecordSpec(spec), 'student')
    rec.start()
    out = module(*inputs)
    rec.stop()
    return rec.record, out


# ----------------------------------------------------------------------
# make_record kinds
# ----------------------------------------------------------------------
def test_dense_record_from_conv():
    conv = nn.Conv2d(3, 5, 1)
    record, out = _hook_records(conv, 'm', torch.randn(2, 3, 4, 6))
    assert record.kind == 'dense'
    assert torch.equal(record.tensor, out)
    # a copy: an in-place change of the output after the hook (CenterHead's
    # sigmoid_ on its heatmap) leaves the record as the module gave it,
    # and the record's gradient still reaches the module
    out.data.mul_(0)
    assert record.tensor.abs().sum() > 0
    record.tensor.sum().backward()
    assert conv.bias.grad.abs().sum() > 0
    assert record.channels == 5
    assert record.coors is None and record.xyz is None


def test_voxel_record_from_pillar_feature_net():
    """A real PillarFeatureNet called as (features, num_points, coors)."""
    pcr = [0, -2.56, -3, 2.56, 2.56, 1]
    vsize = [0.16, 0.16, 4]
    pfn = MODELS.build(
        dict(
            type='PillarFeatureNet',
            in_channels=4,
            feat_channels=[16],
            voxel_size=vsize,
            point_cloud_range=pcr))
    layer = Voxelization(
        voxel_size=vsize, point_cloud_range=pcr, max_num_points=8,
        max_voxels=500)
    torch.manual_seed(0)
    scale = torch.tensor([2.56, 5.12, 4., 1.])
    offset = torch.tensor([0., -2.56, -3., 0.])
    feats, coors, nums = [], [], []
    for b in range(2):
        v, c, n = layer(torch.rand(300, 4) * scale + offset)
        feats.append(v)
        coors.append(torch.nn.functional.pad(c, (1, 0), value=b))
        nums.append(n)
    feats, coors, nums = torch.cat(feats), torch.cat(coors), torch.cat(nums)
    record, out = _hook_records(pfn, 'm', feats, nums, coors)
    assert record.kind == 'voxel'
    assert record.tensor is out and record.tensor.shape == (len(coors), 16)
    assert record.coors is coors and record.num_points is nums
    assert record.batch_size == 2
    assert record.channels == 16


def test_sparse_record_from_mmcv_sparse_conv():
    conv = SubMConv3d(3, 5, 3, indice_key='rec')
    idx = torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1], [1, 2, 2, 2]],
                       dtype=torch.int32)
    x = SparseConvTensor(torch.randn(3, 3), idx, [4, 4, 4], 2)
    record, out = _hook_records(conv, 'm', x)
    assert record.kind == 'sparse'
    assert record.tensor is out.features and record.tensor.shape == (3, 5)
    assert torch.equal(record.coors, out.indices)
    assert record.spatial_shape == [4, 4, 4]
    assert record.batch_size == 2
    assert record.channels == 5


def test_points_record_with_xyz_path():
    """(xyz, features) outputs: select the features and the coordinates."""
    xyz, feats = torch.randn(2, 7, 3), torch.randn(2, 5, 7)
    record = make_record((), dict(xyz=[xyz], feats=[feats]),
                         output_path=['feats', 0], xyz_path=['xyz', -1])
    assert record.kind == 'points'
    assert record.tensor is feats and record.xyz is xyz
    assert record.channels == 5


def test_list_of_one_is_unwrapped():
    """mmdet3d necks return [feature]."""
    x = torch.randn(1, 4, 2, 2)
    record = make_record((), [x])
    assert record.kind == 'dense' and record.tensor is x
    assert make_record((), (x, )).tensor is x


def test_output_path_and_forced_kind():
    a, b = torch.randn(3, 4), torch.randn(1, 2, 3, 3)
    record = make_record((), (a, b), output_path=[1])
    assert record.tensor is b and record.kind == 'dense'
    record = make_record((), dict(x=a), output_path=['x'], kind='tensor')
    assert record.tensor is a and record.kind == 'tensor'
    record = make_record((), dict(x=[b]), output_path=['x', 0], kind='points')
    assert record.tensor is b and record.kind == 'points'
    # a 2-D output of a module not called as a voxel encoder
    assert make_record((a, ), a).kind == 'tensor'


def test_non_tensor_output_needs_a_path():
    with pytest.raises(TypeError, match='select one with `output`'):
        make_record((), (torch.randn(2, 2), torch.randn(2, 2)))
    with pytest.raises(TypeError, match='dict'):
        make_record((), dict(a=torch.randn(2)))


def test_kinds_documented():
    assert set(KINDS) == {'dense', 'voxel', 'sparse', 'points', 'tensor'}


def test_recorder_records_only_while_started():
    conv = nn.Conv2d(2, 2, 1)
    holder = nn.Module()
    holder.m = conv
    rec = ModuleRecorder(holder, RecordSpec('m'), 'student')
    conv(torch.randn(1, 2, 2, 2))
    assert rec.record is None
    rec.start()
    conv(torch.randn(1, 2, 2, 2))
    assert rec.record is not None
    rec.stop()
    first = rec.record
    conv(torch.randn(1, 2, 2, 2))
    assert rec.record is first
    rec.start()  # clears
    assert rec.record is None


def test_record_spec_validation():
    spec = RecordSpec(dict(module='neck', output=0, xyz=['a', 1]))
    assert spec.output == [0] and spec.xyz == ['a', 1]
    assert RecordSpec('neck').key != spec.key
    with pytest.raises(ValueError, match='module'):
        RecordSpec(dict(output=0))
    with pytest.raises(ValueError, match='module'):
        RecordSpec(dict(module='neck', outptu=0))


# ----------------------------------------------------------------------
# match_rows
# ----------------------------------------------------------------------
def _check_match(a, b, idx_a, idx_b, expected):
    assert torch.equal(a[idx_a], b[idx_b])
    assert len(idx_a) == expected
    assert len(set(idx_a.tolist())) == len(idx_a)
    assert len(set(idx_b.tolist())) == len(idx_b)


def test_match_rows_identical_and_permuted():
    g = torch.Generator().manual_seed(0)
    coors = torch.unique(torch.randint(0, 6, (40, 4), generator=g), dim=0)
    idx_a, idx_b = match_rows(coors, coors.clone())
    assert torch.equal(idx_a, idx_b)
    assert torch.equal(idx_a, torch.arange(len(coors)))
    perm = torch.randperm(len(coors), generator=g)
    idx_a, idx_b = match_rows(coors, coors[perm])
    _check_match(coors, coors[perm], idx_a, idx_b, len(coors))
    # the permutation is recovered
    assert torch.equal(perm[idx_b], idx_a)


def test_match_rows_partial_overlap():
    a = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 2], [1, 0, 0, 0], [0, 3, 3, 3]])
    b = torch.tensor([[1, 0, 0, 0], [2, 2, 2, 2], [0, 0, 1, 1],
                      [0, 0, 2, 1]], dtype=torch.int32)
    idx_a, idx_b = match_rows(a, b)
    _check_match(a.long(), b.long(), idx_a, idx_b, 2)
    assert sorted(idx_a.tolist()) == [0, 2]
    pairs = sorted(zip(idx_a.tolist(), idx_b.tolist()))
    assert pairs == [(0, 2), (2, 0)]


def test_match_rows_disjoint_and_empty():
    a = torch.tensor([[0, 0, 0, 0]])
    b = torch.tensor([[0, 0, 0, 1]])
    idx_a, idx_b = match_rows(a, b)
    assert len(idx_a) == 0 and len(idx_b) == 0
    empty = torch.zeros(0, 4, dtype=torch.long)
    for x, y in ((empty, a), (a, empty), (empty, empty.clone())):
        idx_x, idx_y = match_rows(x, y)
        assert len(idx_x) == 0 and len(idx_y) == 0


# ----------------------------------------------------------------------
# channel inference and module lookup on real mmdet3d modules
# ----------------------------------------------------------------------
def test_infer_out_channels_pointpillars(pointpillars):
    m = pointpillars
    assert infer_out_channels(m.neck) == 384  # SECONDFPN concatenates
    assert infer_out_channels(m.neck, [0]) == 128
    assert infer_out_channels(m.backbone, [1]) == 128  # SECOND stage 1
    assert infer_out_channels(m.bbox_head.conv_cls) == \
        m.bbox_head.num_anchors * m.bbox_head.num_classes == 18
    assert infer_out_channels(m.voxel_encoder) == 64


@pytest.mark.parametrize('base', [4, 8])
def test_infer_out_channels_cylinder3d_backbone(base):
    """Asymm3DSpconv outputs cat(ddcm, up): 4 * base_channels."""
    backbone = MODELS.build(
        dict(
            type='Asymm3DSpconv',
            grid_size=[16, 16, 8],
            input_channels=16,
            base_channels=base))
    assert infer_out_channels(backbone) == 4 * base


def test_find_module_names_close_candidates(pointpillars):
    with pytest.raises(KeyError) as err:
        find_module(pointpillars, 'nek', 'teacher')
    msg = str(err.value)
    assert "teacher has no module named 'nek'" in msg
    assert "'neck'" in msg.split('top-level')[0]
    with pytest.raises(KeyError, match='bbox_head.conv_cls'):
        find_module(pointpillars, 'bbox_head.conv_clss', 'student')
    with pytest.raises(KeyError, match='student has no module'):
        find_module(pointpillars, '', 'student')
    assert find_module(pointpillars, 'bbox_head.conv_cls', 'student') is \
        pointpillars.bbox_head.conv_cls
