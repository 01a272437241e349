"""The real KITTI / SemanticKITTI sample frames of ../shared pass through
mmdet3d's dataset classes with our configs' pipelines and a model's predict.
Skipped when ../shared/data/mmdet3d_samples is absent."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdet3d.registry import DATASETS, MODELS
from mmdet3d.structures import Det3DDataSample
from mmdet3d.utils import register_all_modules

from distill3d.utils import set_data_root
from helpers import config_path

PP = ('pointpillars/'
      'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py')
CY = 'cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py'


def _predict(cfg: Config, batch: dict):
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        return model.test_step(pseudo_collate(batch))


def test_real_kitti_frame_train_pipeline_and_predict(shared_samples):
    register_all_modules()
    root = osp.join(shared_samples, 'tests', 'data', 'kitti')
    cfg = Config.fromfile(config_path(PP))
    set_data_root(cfg, root)
    train = cfg.train_dataloader.dataset.dataset
    train.ann_file = 'kitti_infos_train.pkl'
    # the sample GT database holds one Pedestrian only, and its info has no
    # ground plane (mmdet3d's converter adds it with --with-plane)
    sampler = [t for t in train.pipeline if t['type'] == 'ObjectSample'][0]
    sampler['use_ground_plane'] = False
    sampler['db_sampler']['prepare']['filter_by_min_points'] = dict(
        Pedestrian=5)
    sampler['db_sampler']['sample_groups'] = dict(Pedestrian=2)
    dataset = DATASETS.build(train)
    sample = dataset[0]
    points = sample['inputs']['points']
    assert points.ndim == 2 and points.shape[1] == 4 and len(points) > 0
    gt = sample['data_samples'].gt_instances_3d
    # the real frame has a Pedestrian; ObjectSample may add database boxes
    assert len(gt.bboxes_3d) >= 1
    assert set(gt.labels_3d.tolist()) <= {0, 1, 2}

    test = cfg.test_dataloader.dataset
    test.ann_file = 'kitti_infos_train.pkl'
    test_set = DATASETS.build(test)
    results = _predict(cfg, [test_set[0]])
    assert isinstance(results[0], Det3DDataSample)
    pred = results[0].pred_instances_3d
    assert pred.bboxes_3d.tensor.shape[1] == 7
    assert len(pred.scores_3d) == len(pred.labels_3d)


def test_real_semantickitti_frame_pipeline_and_predict(shared_samples):
    register_all_modules()
    root = osp.join(shared_samples, 'tests', 'data', 'semantickitti')
    cfg = Config.fromfile(config_path(CY))
    set_data_root(cfg, root)
    test = cfg.test_dataloader.dataset
    test.ann_file = 'semantickitti_infos.pkl'
    test.data_prefix = dict(
        pts='sequences/00/velodyne', pts_semantic_mask='sequences/00/labels')
    dataset = DATASETS.build(test)
    sample = dataset[0]
    mask = sample['data_samples'].gt_pts_seg.pts_semantic_mask
    points = sample['inputs']['points']
    assert len(mask) == len(points) == 50
    # raw ids 0/50/52/70/71/80 map to learning ids (19 = ignore)
    assert set(mask.tolist()) <= set(range(20))
    assert 12 in mask.tolist()  # building (raw 50)
    results = _predict(cfg, [sample])
    seg = results[0].pred_pts_seg.pts_semantic_mask
    assert seg.shape[0] == 50
