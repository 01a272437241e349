# PointNet++ SSG teacher (unchanged network, 1,472,552 parameters) on the
# synthetic ModelNet40 of tools/create_synthetic_data.py, sized for a CPU:
# 512 points per shape, 128 / 32 sampled centres (16 / 32 neighbours),
# batch 16, 30 epochs with warm-up + cosine decay (about 7 min on one
# CPU thread).
_base_ = ['./pointnet2-ssg_1xb24-200e_modelnet40.py']

num_points = 512
max_epochs = 30
lr = 2e-3
model = dict(
    backbone=dict(
        num_points=(128, 32), radius=(0.25, 0.5), num_samples=(16, 32)))

train_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=6),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(
        type='ClsRandomScaleTranslate',
        scale_range=(0.8, 1.25),
        translate=0.1,
        with_normals=True),
    dict(type='PackPointClsInputs')
]
test_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=6),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16, num_workers=2, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

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
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
randomness = dict(seed=0)
