"""CPU points through mmdet3d's ``voxel_type='minkunet'`` voxelization."""
import pytest
import torch
from mmdet3d.models.data_preprocessors import Det3DDataPreprocessor
from mmdet3d.structures import Det3DDataSample, PointData

import distill3d  # noqa: F401
from distill3d.cpu_support.minkunet_voxelize import cuda_calls_stay_on

VOXEL = 0.5


def _preprocessor(batch_first=True, max_voxels=None):
    return Det3DDataPreprocessor(
        voxel=True,
        voxel_type='minkunet',
        batch_first=batch_first,
        max_voxels=max_voxels,
        voxel_layer=dict(
            max_num_points=-1,
            point_cloud_range=[-100, -100, -20, 100, 100, 20],
            voxel_size=[VOXEL] * 3,
            max_voxels=(-1, -1)))


def _sample(num, seed):
    g = torch.Generator().manual_seed(seed)
    points = torch.cat([torch.rand(num, 3, generator=g) * 6 - 3,
                        torch.rand(num, 1, generator=g)], 1)
    sample = Det3DDataSample()
    sample.gt_pts_seg = PointData(
        pts_semantic_mask=torch.randint(0, 5, (num, ), generator=g))
    return points, sample


@pytest.mark.parametrize('batch_first', [True, False])
def test_minkunet_voxelization_runs_on_cpu(batch_first):
    pre = _preprocessor(batch_first)
    pre.train()
    points, samples = zip(*[_sample(300, 0), _sample(200, 1)])
    out = pre.voxelize(list(points), list(samples))
    coors, voxels = out['coors'], out['voxels']
    assert coors.device.type == voxels.device.type == 'cpu'
    batch_col = 0 if batch_first else -1
    xyz_cols = slice(1, 4) if batch_first else slice(0, 3)
    for i, (pts, sample) in enumerate(zip(points, samples)):
        mine = coors[:, batch_col] == i
        assert sample.batch_idx.eq(i).all()
        cells = coors[mine][:, xyz_cols]
        # one voxel per occupied cell (the reference: torch.unique)
        ref = torch.round(pts[:, :3] / VOXEL).int()
        ref -= ref.min(0)[0]
        assert len(cells) == len(torch.unique(ref, dim=0))
        assert len(torch.unique(cells, dim=0)) == len(cells)
        # every point maps to the voxel of its own cell
        p2v = sample.point2voxel_map
        assert p2v.device.type == 'cpu' and len(p2v) == len(pts)
        assert torch.equal(cells[p2v], ref)
        # each voxel is one of its points, and carries that point's label
        kept = voxels[mine]
        match = (kept[:, None] == pts[None]).all(-1)
        assert match.any(1).all()
        labels = sample.gt_pts_seg.pts_semantic_mask[match.float().argmax(1)]
        assert torch.equal(sample.gt_pts_seg.voxel_semantic_mask, labels)


def test_max_voxels_keeps_a_subset_on_cpu():
    pre = _preprocessor(max_voxels=50)
    pre.train()
    points, sample = _sample(400, 2)
    out = pre.voxelize([points], [sample])
    assert len(out['coors']) == 50
    assert len(sample.gt_pts_seg.voxel_semantic_mask) == 50


def test_tensor_cuda_is_restored():
    original = torch.Tensor.cuda
    with pytest.raises(RuntimeError, match='inside'):
        with cuda_calls_stay_on(torch.device('cpu')):
            assert torch.ones(2).cuda().device.type == 'cpu'
            raise RuntimeError('inside')
    assert torch.Tensor.cuda is original


def test_other_voxel_types_keep_tensor_cuda():
    pre = Det3DDataPreprocessor(
        voxel=True,
        voxel_type='dynamic',
        voxel_layer=dict(
            max_num_points=-1,
            point_cloud_range=[0, -40, -3, 70.4, 40, 1],
            voxel_size=[0.4, 0.4, 4],
            max_voxels=(-1, -1)))
    seen = []
    pre.voxel_layer.register_forward_pre_hook(
        lambda module, args: seen.append(torch.Tensor.cuda))
    points, sample = _sample(100, 3)
    pre.voxelize([points.abs()], [sample])
    assert seen == [torch.Tensor.cuda]
    assert seen[0] is not None and 'to_device' not in seen[0].__name__
