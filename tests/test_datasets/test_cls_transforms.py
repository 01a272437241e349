"""Sampling, normalisation and augmentation transforms of point-cloud
classification."""
import numpy as np
import pytest


def _cloud(n=200, seed=0):
    rng = np.random.default_rng(seed)
    xyz = rng.normal(size=(n, 3)).astype(np.float32) * [1., 2., .5] + 3
    nrm = rng.normal(size=(n, 3))
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    return np.concatenate([xyz, nrm], 1).astype(np.float32)


def test_point_sample_methods():
    from distill3d.datasets.transforms.cls_transforms import (
        ClsPointSample, furthest_point_sample_np)
    pts = _cloud()
    out = ClsPointSample(50, 'first')(dict(points=pts.copy()))
    np.testing.assert_array_equal(out['points'], pts[:50])
    out = ClsPointSample(50, 'random')(dict(points=pts.copy()))
    assert len({tuple(p) for p in out['points']}) == 50
    # FPS against a brute-force loop
    idx = furthest_point_sample_np(pts[:, :3], 20)
    ref, chosen = [0], {0}
    for _ in range(19):
        d = [min(((pts[j, :3] - pts[c, :3])**2).sum() for c in ref)
             for j in range(len(pts))]
        nxt = int(np.argmax(d))
        ref.append(nxt)
        chosen.add(nxt)
    assert idx.tolist() == ref
    # fewer points than asked: padded with repeats, mask follows
    mask = np.arange(10)
    out = ClsPointSample(32, 'fps')(dict(points=pts[:10].copy(),
                                         pts_mask=mask))
    assert out['points'].shape == (32, 6)
    np.testing.assert_array_equal(out['points'][:10], pts[:10])
    np.testing.assert_array_equal(out['points'][:, 0],
                                  pts[:10, 0][out['pts_mask']])
    with pytest.raises(ValueError, match='method'):
        ClsPointSample(10, 'grid')


def test_normalize_unit_sphere():
    from distill3d.datasets.transforms.cls_transforms import \
        ClsNormalizeUnitSphere
    pts = _cloud()
    out = ClsNormalizeUnitSphere()(dict(points=pts.copy()))['points']
    np.testing.assert_allclose(out[:, :3].mean(0), 0, atol=1e-5)
    assert abs(np.linalg.norm(out[:, :3], axis=1).max() - 1) < 1e-5
    np.testing.assert_array_equal(out[:, 3:], pts[:, 3:])


def test_rotation_and_scaling_keep_normals_consistent():
    """Rotated / scaled normals stay unit and perpendicular to the rotated
    / scaled tangent directions."""
    from distill3d.datasets.transforms.cls_transforms import (
        ClsRandomRotate, ClsRandomScaleTranslate)
    np.random.seed(0)
    # points on the plane z = 0.5 x (normal ~ (-0.5, 0, 1))
    rng = np.random.default_rng(1)
    xy = rng.uniform(-1, 1, (100, 2))
    xyz = np.stack([xy[:, 0], xy[:, 1], 0.5 * xy[:, 0]], 1)
    n = np.array([-0.5, 0, 1]) / np.linalg.norm([-0.5, 0, 1])
    pts = np.concatenate([xyz, np.tile(n, (100, 1))], 1).astype(np.float32)
    for t in (ClsRandomRotate(axis=2, with_normals=True),
              ClsRandomRotate(axis=0, with_normals=True),
              ClsRandomScaleTranslate(with_normals=True)):
        out = t(dict(points=pts.copy()))['points']
        assert not np.allclose(out[:, :3], pts[:, :3])
        np.testing.assert_allclose(np.linalg.norm(out[:, 3:], axis=1), 1,
                                   atol=1e-5)
        tangent = out[1:, :3] - out[:1, :3]
        np.testing.assert_allclose(tangent @ out[0, 3:], 0, atol=1e-4)
    # the rotation about z keeps z and distances to the axis
    out = ClsRandomRotate(axis=2)(dict(points=pts.copy()))['points']
    np.testing.assert_allclose(out[:, 2], pts[:, 2], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out[:, :2], axis=1),
                               np.linalg.norm(pts[:, :2], axis=1), atol=1e-5)
    with pytest.raises(ValueError, match='6 columns'):
        ClsRandomRotate(with_normals=True)(dict(points=pts[:, :3].copy()))


def test_jitter_dropout_and_pack():
    import torch

    from distill3d.datasets.transforms.cls_transforms import (
        ClsRandomJitter, ClsRandomPointDropout, PackPointClsInputs)
    np.random.seed(0)
    pts = _cloud()
    out = ClsRandomJitter(std=0.01, clip=0.02)(dict(points=pts.copy()))
    diff = out['points'] - pts
    assert np.abs(diff[:, :3]).max() <= 0.02 + 1e-6 and diff[:, :3].std() > 0
    np.testing.assert_array_equal(diff[:, 3:], 0)
    out = ClsRandomPointDropout(0.8)(dict(points=pts.copy()))['points']
    dropped = (out == pts[0]).all(1)
    assert len(out) == len(pts) and dropped.sum() > 1
    packed = PackPointClsInputs()(dict(points=pts, gt_label=7,
                                       sample_idx=3, shape_id='x_0001'))
    assert torch.equal(packed['inputs']['points'], torch.from_numpy(pts))
    sample = packed['data_samples']
    assert sample.gt_label.tolist() == [7]
    assert sample.metainfo == dict(sample_idx=3, shape_id='x_0001')
    assert 'gt_label' not in PackPointClsInputs()(
        dict(points=pts))['data_samples']
