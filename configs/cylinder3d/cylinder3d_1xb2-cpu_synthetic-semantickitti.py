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

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
