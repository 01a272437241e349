# PointNet++ SSG classifier (Qi et al., 2017) from mmdet3d's PointNet2SASSG:
# SA(512, r=0.2, 32, [64, 64, 128]) -> SA(128, r=0.4, 64, [128, 128, 256])
# -> group-all SA [256, 512, 1024] (PointNetGlobalSA) -> FC 512 -> FC 256
# -> classes. Input: xyz + normals (6 channels). 1,472,552 parameters with
# 40 classes.
model = dict(
    type='PointClassifier',
    data_preprocessor=dict(type='PointClsDataPreprocessor'),
    backbone=dict(
        type='PointNet2SASSG',
        in_channels=6,
        num_points=(512, 128),
        radius=(0.2, 0.4),
        num_samples=(32, 64),
        sa_channels=((64, 64, 128), (128, 128, 256)),
        fp_channels=(),
        norm_cfg=dict(type='BN2d'),
        sa_cfg=dict(
            type='PointSAModule',
            pool_mod='max',
            use_xyz=True,
            normalize_xyz=False)),
    neck=dict(
        type='PointNetGlobalSA', in_channels=256,
        mlp_channels=(256, 512, 1024)),
    head=dict(
        type='PointClsHead',
        in_channels=1024,
        num_classes=40,
        hidden_channels=(512, 256),
        dropout=0.5))
