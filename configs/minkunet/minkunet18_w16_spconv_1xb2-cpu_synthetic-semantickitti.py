# MinkUNet-18 (width 16; mmdet3d's SemanticKITTI model) with the spconv
# backend, on the synthetic SemanticKITTI-format data. mmdet3d ships this
# width with torchsparse only; its spconv configs (MinkUNet-34) switch the
# backend the same way: `sparseconv_backend='spconv'` with batch-first
# coordinates. On CPU, spconv runs its Native algorithm and the `minkunet`
# voxelization of Det3DDataPreprocessor (which moves its indices with
# `.cuda()`) keeps CPU points on the CPU (distill3d.cpu_support). CPU
# changes: the published 0.05 m voxels are kept; the AMP optimizer wrapper
# (CUDA only) becomes a plain one; 50 iterations of warm-up instead of 125.
# For real SemanticKITTI, point `data_root` at an mmdet3d-prepared
# SemanticKITTI folder.
_base_ = [
    'mmdet3d::minkunet/minkunet18_w16_torchsparse_8xb2-amp-15e_'
    'semantickitti.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)

data_root = 'data/synthetic_semantickitti/'

model = dict(
    data_preprocessor=dict(batch_first=True),
    backbone=dict(sparseconv_backend='spconv'))

train_dataloader = dict(
    batch_size=2, num_workers=2, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

max_epochs = 15
lr = 0.24
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='SGD', lr=lr, weight_decay=0.0001, momentum=0.9, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.008, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        begin=0,
        T_max=max_epochs,
        by_epoch=True,
        eta_min=1e-5,
        convert_to_iter_based=True)
]
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=5)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=2))
env_cfg = dict(cudnn_benchmark=False)
