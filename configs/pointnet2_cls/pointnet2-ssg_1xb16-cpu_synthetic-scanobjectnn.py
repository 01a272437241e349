# PointNet++ SSG teacher on the synthetic ScanObjectNN (OBJ_BG by default;
# set `variant`, e.g. --cfg-options train_dataloader.dataset.variant=
# PB_T50_RS val_dataloader.dataset.variant=PB_T50_RS test_dataloader.
# dataset.variant=PB_T50_RS), xyz only (3 input channels), 15 classes:
# 1,465,935 parameters. CPU sizing as the ModelNet40 CPU config: 512
# points, 128 / 32 centres, batch 16, 30 epochs.
_base_ = [
    '../_base_/models/pointnet2-ssg_cls.py',
    '../_base_/datasets/scanobjectnn.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

num_points = 512
max_epochs = 30
lr = 2e-3
model = dict(
    backbone=dict(
        in_channels=3,
        num_points=(128, 32),
        radius=(0.25, 0.5),
        num_samples=(16, 32)),
    head=dict(num_classes=15))

train_pipeline = [
    dict(type='ClsPointSample', num_points=num_points, method='random'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='ClsRandomScaleTranslate', scale_range=(0.8, 1.25),
         translate=0.1),
    dict(type='ClsRandomRotate', angle_range=(-3.1416, 3.1416), axis=2),
    dict(type='PackPointClsInputs')
]
test_pipeline = [
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]
train_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=lr, weight_decay=1e-4))
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
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=1))
randomness = dict(seed=0)
