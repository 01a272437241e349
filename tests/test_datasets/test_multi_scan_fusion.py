"""M2SKD's multi-scan hard-instance fusion on synthetic SemanticKITTI."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from helpers import REPO, config_path

from distill3d.datasets.transforms.multi_scan_fusion import (
    DEFAULT_HARD_CLASSES, default_labels_map, raw_ids_of_classes,
    read_label_file)

LOAD = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='LoadAnnotations3D', with_bbox_3d=False, with_label_3d=False,
         with_seg_3d=True, seg_3d_dtype='np.int32', seg_offset=2**16,
         dataset_type='semantickitti')
]
CYLINDER3D = 'cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py'
HARD_IDS = {
    i
    for ids in raw_ids_of_classes(default_labels_map(),
                                  DEFAULT_HARD_CLASSES).values() for i in ids
}


@pytest.fixture(scope='module')
def sequence(tmp_path_factory):
    """Sequence 00 with 6 scans (the first 4 frames precede frame 4)."""
    from distill3d.datasets.synthetic.semantickitti import (
        SemanticKittiSynthConfig, create_semantickitti_dataset)
    root = str(tmp_path_factory.mktemp('skitti_seq'))
    create_semantickitti_dataset(
        root, seed=0,
        cfg=SemanticKittiSynthConfig(train_seqs=(0, ), val_seqs=(),
                                     frames_per_seq=6, moving_ids=True))
    return osp.join(root, 'sequences', '00')


def _label_mapping():
    from mmdet3d.datasets import SemanticKittiDataset as S
    from mmengine.config import Config
    cfg = Config.fromfile(config_path(CYLINDER3D))
    return S.get_seg_label_mapping(None, cfg.metainfo)


def _info(seq_dir, frame):
    return dict(
        seg_label_mapping=_label_mapping(),
        lidar_points=dict(
            lidar_path=osp.join(seq_dir, 'velodyne', f'{frame:06d}.bin'),
            num_pts_feats=4),
        pts_semantic_mask_path=osp.join(seq_dir, 'labels',
                                        f'{frame:06d}.label'),
        seg_3d_fields=[])


def _run(seq_dir, frame, extra=(), **kwargs):
    init_default_scope('mmdet3d')
    pipe = Compose(LOAD + [dict(type='MultiScanHardInstanceFusion', **kwargs)]
                   + list(extra))
    return pipe(_info(seq_dir, frame))


def _scan(seq_dir, frame):
    return np.fromfile(
        osp.join(seq_dir, 'velodyne', f'{frame:06d}.bin'),
        dtype=np.float32).reshape(-1, 4)


def test_fused_points_land_on_current_instances(sequence):
    out = _run(sequence, 4, align='none')  # poses and calib only
    scan = _scan(sequence, 4)
    n = len(scan)
    pts = out['points'].tensor.numpy()
    assert out['num_fused_points'] > 100
    assert len(pts) == n + out['num_fused_points']
    # student points untouched and first; the flag column marks fused ones
    np.testing.assert_array_equal(pts[:n, :4], scan)
    assert (pts[:n, 4] == 0).all() and (pts[n:, 4] == 1).all()
    sem, inst = out['pts_semantic_mask'], out['pts_instance_mask']
    cur_sem, cur_inst = read_label_file(_info(sequence, 4)[
        'pts_semantic_mask_path'])
    np.testing.assert_array_equal(sem[:n], cur_sem)
    np.testing.assert_array_equal(inst[:n], cur_inst)
    # labels preserved: fused points are hard-class points of instances
    # that are in frame 4
    assert set(sem[n:].tolist()) <= HARD_IDS
    present = set(cur_inst[np.isin(cur_sem, list(HARD_IDS))].tolist())
    assert set(inst[n:].tolist()) <= present
    # poses and calib alone bring the well-sampled static instances (no
    # moving-* label) onto their current points: half of their fused
    # points within 0.3 m
    checked = 0
    for i in np.unique(inst[n:]):
        cur = pts[:n][inst[:n] == i, :3]
        static = (sem[inst == i] < 252).all()
        if static and len(cur) >= 10:
            d = _nn_dist(pts[n:][inst[n:] == i, :3], cur)
            assert np.median(d) < 0.3, (i, np.median(d))
            checked += 1
    assert checked >= 2


def _nn_dist(a, b):
    return np.sqrt(((a[:, None] - b[None])**2).sum(-1)).min(1)


def test_centroid_alignment_distance_bound(sequence):
    out = _run(sequence, 4, align='centroid')
    n = len(_scan(sequence, 4))
    pts, inst = out['points'].tensor.numpy(), out['pts_instance_mask']
    assert out['num_fused_points'] > 0
    for i in np.unique(inst[n:]):
        cur = pts[:n][inst[:n] == i, :3]
        extent = np.linalg.norm(cur.max(0) - cur.min(0))
        # every fused point within the object's size of its current points
        d = _nn_dist(pts[n:][inst[n:] == i, :3], cur)
        assert d.max() < extent + 1.0, (i, d.max(), extent)
    out = _run(sequence, 4, num_prev=1, align='centroid')
    pts, inst = out['points'].tensor.numpy(), out['pts_instance_mask']
    for i in np.unique(inst[n:]):
        np.testing.assert_allclose(
            pts[n:][inst[n:] == i, :3].mean(0),
            pts[:n][inst[:n] == i, :3].mean(0), atol=1e-3)
    icp = _run(sequence, 4, num_prev=1, align='icp')
    assert icp['num_fused_points'] == out['num_fused_points']


def test_num_prev_and_start_of_sequence(sequence):
    counts = [_run(sequence, 4, num_prev=k)['num_fused_points']
              for k in (0, 1, 2, 4)]
    assert counts[0] == 0 and counts[1] < counts[2] < counts[3]
    first = _run(sequence, 0)
    assert first['num_fused_points'] == 0
    np.testing.assert_array_equal(first['points'].tensor.numpy()[:, :4],
                                  _scan(sequence, 0))
    # frame 2 with k=4 only has frames 1 and 0
    assert _run(sequence, 2, num_prev=4)['num_fused_points'] == \
        _run(sequence, 2, num_prev=2)['num_fused_points']


def test_missing_earlier_frames_and_no_hard_classes(sequence, tmp_path):
    seq = str(tmp_path / '00')
    shutil.copytree(sequence, seq)
    full = _run(seq, 4, num_prev=2)['num_fused_points']
    os.remove(osp.join(seq, 'velodyne', '000003.bin'))
    os.remove(osp.join(seq, 'labels', '000002.label'))
    assert _run(seq, 4, num_prev=2)['num_fused_points'] == 0 < full
    assert _run(seq, 4, num_prev=4)['num_fused_points'] > 0
    # the poses are only read when there is something to fuse
    os.remove(osp.join(seq, 'poses.txt'))
    assert _run(seq, 0)['num_fused_points'] == 0
    with pytest.raises(FileNotFoundError, match='poses.txt'):
        _run(seq, 4)


def test_split_after_shared_augmentation(sequence):
    aug = [
        dict(type='PointSegClassMapping'),
        dict(type='RandomFlip3D', sync_2d=False,
             flip_ratio_bev_horizontal=1.0, flip_ratio_bev_vertical=1.0),
        dict(type='GlobalRotScaleTrans', rot_range=[0.5, 0.5],
             scale_ratio_range=[1.1, 1.1], translation_std=[0, 0, 0]),
        dict(type='SplitFusedPoints'),
    ]
    out = _run(sequence, 4, extra=aug)
    packed = Compose([
        dict(type='PackDistillInputs',
             keys=['points', 'teacher_points', 'pts_semantic_mask',
                   'pts_instance_mask', 'teacher_pts_semantic_mask',
                   'teacher_pts_instance_mask'])
    ])(dict(out))
    n_teacher = packed['inputs']['teacher_points'].shape[0]
    assert n_teacher > packed['inputs']['points'].shape[0] == \
        len(_scan(sequence, 4))
    seg = packed['data_samples'].gt_pts_seg
    assert len(seg.pts_semantic_mask) == len(seg.pts_instance_mask) == \
        len(_scan(sequence, 4))
    # teacher-side labels travel as their own PointData
    t_seg = packed['data_samples'].teacher_gt_pts_seg
    assert len(t_seg.pts_semantic_mask) == len(t_seg.pts_instance_mask) == \
        n_teacher
    np.testing.assert_array_equal(
        t_seg.pts_semantic_mask[:len(seg.pts_semantic_mask)].numpy(),
        seg.pts_semantic_mask.numpy())
    scan = _scan(sequence, 4)
    student = out['points'].tensor.numpy()
    teacher = out['teacher_points'].tensor.numpy()
    assert student.shape == scan.shape and teacher.shape[1] == 4
    assert len(teacher) > len(scan)
    np.testing.assert_array_equal(teacher[:len(scan)], student)
    # same rigid transform on both: distances between points are scaled
    # by 1.1 only
    ref = np.linalg.norm(scan[1:, :3] - scan[:-1, :3], axis=1)
    got = np.linalg.norm(student[1:, :3] - student[:-1, :3], axis=1)
    np.testing.assert_allclose(got, 1.1 * ref, rtol=1e-4, atol=1e-4)
    assert len(out['pts_semantic_mask']) == len(scan)
    assert len(out['teacher_pts_semantic_mask']) == len(teacher)
    assert out['teacher_pts_semantic_mask'].max() < 20  # mapped ids


def test_unmarked_fusion_for_a_multi_scan_teacher(sequence):
    marked = _run(sequence, 4)
    plain = _run(sequence, 4, mark_fused=False)
    pts = plain['points']
    assert pts.shape[1] == 4 and 'fused' not in (pts.attribute_dims or {})
    np.testing.assert_array_equal(pts.tensor.numpy(),
                                  marked['points'].tensor.numpy()[:, :4])
    np.testing.assert_array_equal(plain['pts_semantic_mask'],
                                  marked['pts_semantic_mask'])


def test_wrong_placement_raises(sequence):
    with pytest.raises(ValueError, match='before'):
        _run_mapped = Compose(LOAD + [
            dict(type='PointSegClassMapping'),
            dict(type='MultiScanHardInstanceFusion')
        ])
        init_default_scope('mmdet3d')
        _run_mapped(_info(sequence, 4))
    with pytest.raises(ValueError, match='align'):
        _run(sequence, 4, align='bogus')
    with pytest.raises(ValueError, match='unknown hard classes'):
        _run(sequence, 4, hard_classes=['dragon'])


def test_real_sample_frame(shared_samples):
    root = osp.join(shared_samples, 'tests', 'data', 'semantickitti')
    seq = osp.join(root, 'sequences', '00')
    if not osp.isfile(osp.join(seq, 'velodyne', '000000.bin')):
        pytest.skip('no SemanticKITTI sample frame')
    out = _run(seq, 0, extra=[dict(type='PointSegClassMapping'),
                              dict(type='SplitFusedPoints')])
    scan = _scan(seq, 0)
    np.testing.assert_array_equal(out['points'].tensor.numpy(), scan)
    np.testing.assert_array_equal(out['teacher_points'].tensor.numpy(),
                                  scan)
    assert len(out['pts_semantic_mask']) == len(scan)


def test_instance_index_gives_the_same_fusion(sequence, tmp_path):
    import subprocess
    import sys

    from helpers import REPO
    root = tmp_path / 'root'
    shutil.copytree(sequence, root / 'sequences' / '00')
    seq = str(root / 'sequences' / '00')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'projects', 'M2SKD', 'tools',
                 'build_instance_index.py'),
        str(root), '--config', config_path(CYLINDER3D)
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'sequence 00: 6 frames indexed' in proc.stdout
    for align in ('none', 'centroid'):
        ref = _run(seq, 4, align=align)
        got = _run(seq, 4, align=align, index_dir='instance_index')
        assert got['num_fused_points'] == ref['num_fused_points'] > 0
        np.testing.assert_array_equal(got['points'].tensor.numpy(),
                                      ref['points'].tensor.numpy())
        for key in ('pts_semantic_mask', 'pts_instance_mask'):
            np.testing.assert_array_equal(got[key], ref[key])
    # an index without the requested classes is refused
    from distill3d.datasets.instance_index import build_instance_index
    build_instance_index(str(root), classes=['car'], index_dir='cars')
    with pytest.raises(ValueError, match='does not cover raw label ids'):
        _run(seq, 4, index_dir='cars')


def test_hard_raw_ids_come_from_the_labels_map():
    """Every raw id the data set's labels_map sends to a hard class: the
    moving variants and the classes merged into other-vehicle (13 bus, 16
    on-rails, 256 moving-on-rails) included."""
    ids = raw_ids_of_classes(default_labels_map(), DEFAULT_HARD_CLASSES)
    assert ids['other-vehicle'] == (13, 16, 20, 256, 257, 259)
    assert ids['truck'] == (18, 258)
    assert ids['person'] == (30, 254)
    assert ids['bicycle'] == (11, )
    # by class index, as the losses take them
    assert raw_ids_of_classes(default_labels_map(), [4])[4] == \
        ids['other-vehicle']
    # a data set with its own labels_map: 99 merged into class 1
    own = raw_ids_of_classes({0: 0, 7: 1, 99: 1}, ['bicycle'])
    assert own['bicycle'] == (7, 99)
    with pytest.raises(ValueError, match='no raw label id'):
        raw_ids_of_classes({0: 0}, ['bicycle'])


def _relabel(root, frame, inst_id, raw_id):
    path = osp.join(root, 'labels', f'{frame:06d}.label')
    raw = np.fromfile(path, dtype=np.uint32)
    hit = (raw >> 16) == inst_id
    raw[hit] = (raw[hit] & 0xFFFF0000) | raw_id
    raw.tofile(path)
    return int(hit.sum())


def test_merged_other_vehicle_ids_are_fused(sequence, tmp_path):
    """An instance labelled bus (13) in frame 3 and moving-on-rails (256)
    in frame 4 is an other-vehicle: fused (a hand list without 13 and 256
    fused nothing of it)."""
    seq = str(tmp_path / 'seq')
    shutil.copytree(sequence, seq)
    sem4, inst4 = read_label_file(osp.join(seq, 'labels', '000004.label'))
    sem3, inst3 = read_label_file(osp.join(seq, 'labels', '000003.label'))
    both = set(inst4[np.isin(sem4, list(HARD_IDS))].tolist()) & \
        set(inst3[np.isin(sem3, list(HARD_IDS))].tolist()) - {0}
    inst_id = sorted(both)[0]
    for frame in range(6):  # only this instance is an other-vehicle
        _, inst = read_label_file(osp.join(seq, 'labels',
                                           f'{frame:06d}.label'))
        for other in set(inst.tolist()) - {0, inst_id}:
            _relabel(seq, frame, other, 40)  # road: not hard
    assert _relabel(seq, 3, inst_id, 13) > 0
    assert _relabel(seq, 4, inst_id, 256) > 0
    out = _run(seq, 4, num_prev=1, hard_classes=['other-vehicle'])
    n = len(_scan(seq, 4))
    assert out['num_fused_points'] > 0
    assert set(out['pts_semantic_mask'][n:].tolist()) == {13}
    assert set(out['pts_instance_mask'][n:].tolist()) == {inst_id}
    # the same class by mmdet3d's name and by index
    for name in ('bus', 4):
        again = _run(seq, 4, num_prev=1, hard_classes=[name])
        assert again['num_fused_points'] == out['num_fused_points']
    none = _run(seq, 4, num_prev=1, hard_classes=['truck'])
    assert none['num_fused_points'] == 0


def test_real_sample_frame_hard_ids_match_mmdet3d_mapping(shared_samples):
    """On the real sample frame, the points the fusion treats as hard are
    exactly those mmdet3d's PointSegClassMapping sends to a hard class."""
    from distill3d.datasets.transforms.multi_scan_fusion import \
        MultiScanHardInstanceFusion
    root = osp.join(shared_samples, 'tests', 'data', 'semantickitti')
    seq = osp.join(root, 'sequences', '00')
    if not osp.isfile(osp.join(seq, 'labels', '000000.label')):
        pytest.skip('no SemanticKITTI sample frame')
    fusion = MultiScanHardInstanceFusion()
    init_default_scope('mmdet3d')
    out = Compose(LOAD + [fusion, dict(type='PointSegClassMapping'),
                          dict(type='SplitFusedPoints')])(_info(seq, 0))
    raw, _ = read_label_file(osp.join(seq, 'labels', '000000.label'))
    hard_by_fusion = fusion.group_lut[raw] >= 0
    hard_by_mmdet3d = np.isin(out['pts_semantic_mask'], fusion.class_ids)
    np.testing.assert_array_equal(hard_by_fusion, hard_by_mmdet3d)
    assert set(fusion.hard_raw_ids.tolist()) == HARD_IDS


def test_scan_points_metric_scores_the_scan_only(sequence):
    """The teacher's fused input scored on the scan's own points: with
    predictions right on the scan and wrong on every fused point, the
    metric is perfect, SegMetric over all points is not."""
    import torch
    from mmdet3d.structures import Det3DDataSample, PointData

    from distill3d.evaluation import ScanPointsSegMetric
    from mmdet3d.evaluation.metrics import SegMetric
    pack = dict(type='Pack3DDetInputs', keys=['points', 'pts_semantic_mask'],
                meta_keys=('lidar_path', 'num_scan_points'))
    init_default_scope('mmdet3d')
    pipe = Compose(LOAD + [
        dict(type='MultiScanHardInstanceFusion', mark_fused=False),
        dict(type='PointSegClassMapping'), pack
    ])
    # a test-mode sample, as mmdet3d's Seg3DDataset makes it
    out = pipe(dict(_info(sequence, 4), eval_ann_info=dict()))
    sample = out['data_samples']
    n = sample.metainfo['num_scan_points']
    labels = sample.eval_ann_info['pts_semantic_mask']
    assert n == len(_scan(sequence, 4)) < len(labels)
    pred = torch.as_tensor(labels).clone()
    pred[n:] = (pred[n:] + 1) % 19  # every fused point wrong
    result = Det3DDataSample(metainfo=sample.metainfo)
    result.pred_pts_seg = PointData(pts_semantic_mask=pred)
    result.eval_ann_info = sample.eval_ann_info
    meta = dict(classes=[str(i) for i in range(19)], ignore_index=19,
                label2cat={i: str(i) for i in range(19)})
    scores = {}
    for name, metric in (('scan', ScanPointsSegMetric()),
                         ('all', SegMetric())):
        metric.dataset_meta = meta
        metric.process({}, [result.to_dict()])
        scores[name] = metric.compute_metrics(metric.results)['miou']
    assert scores['scan'] == pytest.approx(1.0)
    assert scores['all'] < 1.0


def _fusion_stats_module():
    import importlib.util
    path = osp.join(REPO, 'projects', 'M2SKD', 'tools', 'fusion_stats.py')
    spec = importlib.util.spec_from_file_location('fusion_stats', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fusion_stats_count_the_voxels_fusion_adds(sequence):
    """projects/M2SKD/tools/fusion_stats.py: its voxels are mmdet3d's
    cylindrical voxels (same partition of the points as the data
    preprocessor's), the first scan of a sequence gains nothing, later
    scans gain hard-class voxels."""
    import torch
    from mmdet3d.registry import MODELS
    from mmdet3d.structures import Det3DDataSample
    from mmengine.config import Config

    from distill3d.utils import set_data_root
    tool = _fusion_stats_module()
    init_default_scope('mmdet3d')
    cfg = Config.fromfile(
        osp.join(REPO, 'projects', 'M2SKD', 'configs',
                 'cylinder3d-multiscan_1xb2-cpu_synthetic-semantickitti.py'))
    set_data_root(cfg, osp.dirname(osp.dirname(sequence)))
    pre = MODELS.build(cfg.model.data_preprocessor).eval()
    points = np.fromfile(osp.join(sequence, 'velodyne', '000004.bin'),
                         np.float32).reshape(-1, 4)
    sample = Det3DDataSample()
    pre.voxelize([torch.from_numpy(points)], [sample])
    ref = sample.point2voxel_map.numpy()
    keys = tool.voxel_keys(points, pre)
    # same partition: a key <-> voxel bijection over the points
    pairs = np.unique(np.stack([keys, ref], 1), axis=0)
    assert len(pairs) == len(np.unique(keys)) == len(np.unique(ref))

    first = tool.fusion_stats(cfg, split='train', max_scans=1)
    assert first['scans'] == 1 and first['added_fraction'] == 0.0
    stats = tool.fusion_stats(cfg, split='train')
    assert stats['scans'] == 6
    assert 0.0 < stats['added_fraction'] < 1.0
    assert stats['hard_voxels_fused'] > stats['hard_voxels_scan'] > 0
    assert set(stats['per_class']) == {
        'bicycle', 'motorcycle', 'truck', 'bus', 'person', 'bicyclist',
        'motorcyclist'}
