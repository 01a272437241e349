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
class_names = ['Pedestrian', 'Cyclist', 'Car']
metainfo = dict(classes=class_names)
point_cloud_range = [0, -40, -3, 70.4, 40, 1]
db_sampler = dict(
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl',
    rate=1.0,
    prepare=dict(
        filter_by_difficulty=[-1],
        filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
    classes=class_names,
    sample_groups=dict(Car=15, Pedestrian=10, Cyclist=10),
    points_loader=dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=None),
    backend_args=None)
train_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=None),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='ObjectSample', db_sampler=db_sampler, use_ground_plane=False),
    dict(type='RandomFlip3D', flip_ratio_bev_horizontal=0.5),
    dict(
        type='GlobalRotScaleTrans',
        rot_range=[-0.78539816, 0.78539816],
        scale_ratio_range=[0.95, 1.05]),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='PointShuffle'),
    dict(
        type='Pack3DDetInputs',
        keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]

model = dict(
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=1024),
        rcnn=dict(sampler=dict(add_gt_as_proposals=True))))

train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        times=1,
        dataset=dict(
            data_root=data_root, pipeline=train_pipeline,
            metainfo=metainfo)))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
val_evaluator = dict(ann_file=data_root + 'kitti_infos_val.pkl')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=20, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
