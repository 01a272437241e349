# PointNet++ SSG on ModelNet40 (1024 points with normals), the FAD teacher.
# 1,472,552 parameters. Real-size schedule: Adam 1e-3, cosine over 200
# epochs, batch 24 on one GPU. Point data_root (or --data-root) at
# modelnet40_normal_resampled/ for the real data set.
_base_ = [
    '../_base_/models/pointnet2-ssg_cls.py',
    '../_base_/datasets/modelnet40.py',
    'mmdet3d::_base_/default_runtime.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

max_epochs = 200
lr = 1e-3
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=lr, weight_decay=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        eta_min=lr * 0.01,
        begin=0,
        end=max_epochs,
        by_epoch=True)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5,
        max_keep_ckpts=3,
        save_best='overall_acc',
        rule='greater'))
