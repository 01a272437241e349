# Cylinder3D (mmdet3d's SemanticKITTI config; mmcv's sparse convolutions run
# on CPU through distill3d) on the synthetic SemanticKITTI-format data.
# CPU sizing: 8 base channels instead of 32 (3.6M instead of 55.9M
# parameters), batch 2. For real SemanticKITTI, point `data_root` at an
# mmdet3d-prepared SemanticKITTI folder (and restore base_channels=32 for the
# published model).
_base_ = ['mmdet3d::cylinder3d/cylinder3d_4xb4-3x_semantickitti.py']
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_semantickitti/'

model = dict(backbone=dict(base_channels=8), decode_head=dict(channels=32))

train_dataloader = dict(
    batch_size=2, num_workers=2, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

# mmdet3d's schedule warms up over 1000 iterations and decays at epoch 30 of
# 36: a short CPU run would never leave the warm-up. Instead: 50 iterations
# of warm-up, then cosine decay over max_epochs (override
# param_scheduler.1.T_max / .end with train_cfg.max_epochs).
max_epochs = 20
lr = 0.001
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
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
