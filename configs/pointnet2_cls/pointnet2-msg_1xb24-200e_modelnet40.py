# PointNet++ MSG classifier (Qi et al., 2017) from mmdet3d's PointNet2SAMSG
# on ModelNet40 (1024 points with normals): an alternative, larger FAD
# teacher. SA(512, radii 0.1/0.2/0.4) -> SA(128, radii 0.2/0.4/0.8) ->
# group-all SA [256, 512, 1024] -> FC 512 -> FC 256 -> classes. 1,745,288
# parameters with 40 classes.
_base_ = ['./pointnet2-ssg_1xb24-200e_modelnet40.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='PointNet2SAMSG',
        in_channels=6,
        num_points=(512, 128),
        radii=((0.1, 0.2, 0.4), (0.2, 0.4, 0.8)),
        num_samples=((16, 32, 128), (32, 64, 128)),
        sa_channels=(((32, 32, 64), (64, 64, 128), (64, 96, 128)),
                     ((64, 64, 128), (128, 128, 256), (128, 128, 256))),
        aggregation_channels=(None, None),
        fps_mods=(('D-FPS'), ('D-FPS')),
        fps_sample_range_lists=((-1), (-1)),
        dilated_group=(False, False),
        out_indices=(1, ),
        norm_cfg=dict(type='BN2d'),
        sa_cfg=dict(
            type='PointSAModuleMSG',
            pool_mod='max',
            use_xyz=True,
            normalize_xyz=False)),
    neck=dict(in_channels=640))
