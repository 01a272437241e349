# PointRCNN (mmdet3d's KITTI 3-class config and model; its PointNet++ and
# RoI ops run on CPU through distill3d) on the synthetic KITTI-format data.
# CPU sizing: 8192 sampled points instead of 16384 and 1024 RPN proposals
# before NMS instead of 9000 (rotated NMS is O(n^2) on CPU); the RCNN sampler
# adds ground truth as proposals so that the few-iteration runs of small
# synthetic sets always have positive RoIs. For real KITTI, point
# `data_root` at an mmdet3d-prepared KITTI folder.
_base_ = ['mmdet3d::point_rcnn/point-rcnn_8xb2_kitti-3d-3class.py']
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_kitti/'
class_names = ['Pedestrian', 'Cyclist', 'Car']
point_cloud_range = [0, -40, -3, 70.4, 40, 1]
num_points = 8192
backend_args = None

db_sampler = dict(
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl',
    rate=1.0,
    prepare=dict(
        filter_by_difficulty=[-1],
        filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
    sample_groups=dict(Car=20, Pedestrian=15, Cyclist=15),
    classes=class_names,
    points_loader=dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    backend_args=backend_args)
train_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='LoadAnnotations3D', with_bbox_3d=True, with_label_3d=True),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='ObjectSample', db_sampler=db_sampler),
    dict(type='RandomFlip3D', flip_ratio_bev_horizontal=0.5),
    dict(
        type='ObjectNoise',
        num_try=100,
        translation_std=[1.0, 1.0, 0.5],
        global_rot_range=[0.0, 0.0],
        rot_range=[-0.78539816, 0.78539816]),
    dict(
        type='GlobalRotScaleTrans',
        rot_range=[-0.78539816, 0.78539816],
        scale_ratio_range=[0.95, 1.05]),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='PointSample', num_points=num_points, sample_range=40.0),
    dict(type='PointShuffle'),
    dict(
        type='Pack3DDetInputs',
        keys=['points', 'gt_bboxes_3d', 'gt_labels_3d'])
]
test_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(
        type='MultiScaleFlipAug3D',
        img_scale=(1333, 800),
        pts_scale_ratio=1,
        flip=False,
        transforms=[
            dict(
                type='GlobalRotScaleTrans',
                rot_range=[0, 0],
                scale_ratio_range=[1., 1.],
                translation_std=[0, 0, 0]),
            dict(type='RandomFlip3D'),
            dict(
                type='PointsRangeFilter', point_cloud_range=point_cloud_range),
            dict(type='PointSample', num_points=num_points, sample_range=40.0)
        ]),
    dict(type='Pack3DDetInputs', keys=['points'])
]

model = dict(
    train_cfg=dict(
        rpn=dict(rpn_proposal=dict(nms_pre=1024)),
        rcnn=dict(sampler=dict(add_gt_as_proposals=True))),
    test_cfg=dict(rpn=dict(nms_cfg=dict(nms_pre=1024))))

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    dataset=dict(
        times=1, dataset=dict(data_root=data_root, pipeline=train_pipeline)))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'kitti_infos_val.pkl')
test_evaluator = val_evaluator

train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
