# 3DSSD (mmdet3d's KITTI car config and model: PointNet2SAMSG with D-FPS /
# F-FPS fusion sampling, vote-based SSD3DHead; its PointNet++ ops,
# furthest point sampling with feature distances included, run on CPU
# through distill3d) on the synthetic KITTI-format data, Car only. CPU
# sizing: 4096 sampled points instead of 16384 and a quarter of the
# sampled centres (1024 / 128 / 64 F-FPS + 64 D-FPS, 64 votes) with the
# F-FPS range to match. For real KITTI, point `data_root` at an
# mmdet3d-prepared KITTI folder and drop the `model` and `num_points`
# overrides.
_base_ = ['mmdet3d::3dssd/3dssd_4xb4_kitti-3d-car.py']
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_kitti/'
class_names = ['Car']
point_cloud_range = [0, -40, -5, 70, 40, 3]
num_points = 4096
backend_args = None

db_sampler = dict(
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl',
    rate=1.0,
    prepare=dict(filter_by_difficulty=[-1], filter_by_min_points=dict(Car=5)),
    classes=class_names,
    sample_groups=dict(Car=15),
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
        translation_std=[1.0, 1.0, 0],
        global_rot_range=[0.0, 0.0],
        rot_range=[-1.0471975511965976, 1.0471975511965976]),
    dict(
        type='GlobalRotScaleTrans',
        rot_range=[-0.78539816, 0.78539816],
        scale_ratio_range=[0.9, 1.1]),
    dict(type='PointSample', num_points=num_points),
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
            dict(type='PointSample', num_points=num_points),
        ]),
    dict(type='Pack3DDetInputs', keys=['points'])
]

model = dict(
    backbone=dict(
        num_points=(1024, 128, (64, 64)),
        fps_sample_range_lists=((-1), (-1), (128, -1))),
    bbox_head=dict(
        vote_module_cfg=dict(num_points=64),
        vote_aggregation_cfg=dict(num_point=64)))

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

train_cfg = dict(max_epochs=20, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
