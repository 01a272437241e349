# PointPillars (mmdet3d's KITTI 3-class config, unchanged model) on the
# synthetic KITTI-format data of tools/create_synthetic_data.py, with a
# CPU-friendly loader and schedule. For real KITTI, point `data_root` at an
# mmdet3d-prepared KITTI folder (everything below derives from it).
#
# CPU sizing: the detection range is the near 39.68 x 39.68 m square in
# front of the car (a 248 x 248 pillar grid, 3.5x fewer cells than mmdet3d's
# 69.12 x 79.36 m), which the synthetic scenes fill (objects up to 38 m).
# On real KITTI this config only detects objects in that square.
_base_ = [
    'mmdet3d::pointpillars/'
    'pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_kitti/'
class_names = ['Pedestrian', 'Cyclist', 'Car']
point_cloud_range = [0, -19.84, -3, 39.68, 19.84, 1]
max_epochs = 20

model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(point_cloud_range=point_cloud_range)),
    middle_encoder=dict(output_shape=[248, 248]),
    bbox_head=dict(
        anchor_generator=dict(ranges=[
            [0, -19.84, -0.6, 39.68, 19.84, -0.6],
            [0, -19.84, -0.6, 39.68, 19.84, -0.6],
            [0, -19.84, -1.78, 39.68, 19.84, -1.78],
        ])))
backend_args = None

db_sampler = dict(
    data_root=data_root,
    info_path=data_root + 'kitti_dbinfos_train.pkl',
    rate=1.0,
    prepare=dict(
        filter_by_difficulty=[-1],
        filter_by_min_points=dict(Car=5, Pedestrian=5, Cyclist=5)),
    classes=class_names,
    sample_groups=dict(Car=15, Pedestrian=15, Cyclist=15),
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
    dict(type='ObjectSample', db_sampler=db_sampler, use_ground_plane=True),
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
        keys=['points', 'gt_labels_3d', 'gt_bboxes_3d'])
]

test_pipeline = [
    dict(
        type='LoadPointsFromFile',
        coord_type='LIDAR',
        load_dim=4,
        use_dim=4,
        backend_args=backend_args),
    dict(type='PointsRangeFilter', point_cloud_range=point_cloud_range),
    dict(type='Pack3DDetInputs', keys=['points'])
]

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

# Short one-cycle-like schedule (mmdet3d's cyclic one is sized for 80
# epochs): 50 iterations of linear warm-up, then cosine decay over
# `max_epochs`. Change both together.
lr = 0.003
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=lr * 0.01,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
