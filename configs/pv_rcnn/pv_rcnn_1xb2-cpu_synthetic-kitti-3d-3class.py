# PV-RCNN (mmdet3d's KITTI 3-class config and model: sparse 3D encoder,
# voxel set abstraction of 2048 keypoints, anchor RPN, RoI-grid pooling with
# stacked set abstraction; spconv, furthest point sampling and the stacked
# ball query / grouping run on CPU through distill3d) on the synthetic
# KITTI-format data. CPU and data changes: the GT database sampler pastes
# objects without road planes (`use_ground_plane=False`: the synthetic set
# writes no `planes/`, and its ground is flat); 1024 RPN proposals before
# NMS in training instead of 9000 (rotated NMS is O(n^2) on CPU); the RCNN
# sampler adds ground truth as proposals so that few-iteration runs on
# small synthetic sets always have positive RoIs. For real KITTI, point
# `data_root` at an mmdet3d-prepared KITTI folder (and restore the ground
# plane, which mmdet3d's KITTI converter writes with `--with-plane`).
_base_ = ['mmdet3d::pv_rcnn/pv_rcnn_8xb2-80e_kitti-3d-3class.py']
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_kitti/'
db_sampler = dict(
    _base_.db_sampler,
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl')
# mmdet3d's training pipeline, its GT sampler (third transform) on this
# data root and without the ground plane
_train_pipeline = _base_.train_pipeline
train_pipeline = _train_pipeline[:2] + [
    dict(_train_pipeline[2], db_sampler=db_sampler, use_ground_plane=False)
] + _train_pipeline[3:]

model = dict(
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1024),
        rcnn=dict(sampler=dict(add_gt_as_proposals=True))))

train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        times=1,
        dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'kitti_infos_val.pkl')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=20, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
