# CenterPoint with a voxel encoder (mmdet3d's centerpoint_voxel01_second_
# secfpn_nus model: HardSimpleVFE, SparseEncoder, SECOND [1, 2] strides,
# SECFPN, CenterHead at output stride 8) on the synthetic KITTI-format data.
# Everything KITTI needs is as in the pillar config it inherits (4 point
# features, the 3 KITTI classes as two tasks in the data set's label order,
# zero velocity via AddZeroVelocity with code weight 0, the near 39.68 m
# square); here 0.08 x 0.08 x 0.1 m voxels (496 x 496 x 41 sparse grid, z
# from -3 to 1 m as mmdet3d's KITTI SECOND) give 62 x 62 heatmaps (0.64 m
# cells). spconv runs on CPU through distill3d. For real KITTI, point
# `data_root` at an mmdet3d-prepared KITTI folder.
_base_ = ['./centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501

point_cloud_range = [0, -19.84, -3, 39.68, 19.84, 1]
voxel_size = [0.08, 0.08, 0.1]
out_size_factor = 8
model = dict(
    data_preprocessor=dict(
        voxel_layer=dict(
            max_num_points=10,
            voxel_size=voxel_size,
            max_voxels=(40000, 60000))),
    pts_voxel_encoder=dict(
        _delete_=True, type='HardSimpleVFE', num_features=4),
    pts_middle_encoder=dict(
        _delete_=True,
        type='SparseEncoder',
        in_channels=4,
        sparse_shape=[41, 496, 496],
        output_channels=128,
        order=('conv', 'norm', 'act'),
        encoder_channels=((16, 16, 32), (32, 32, 64), (64, 64, 128),
                          (128, 128)),
        encoder_paddings=((0, 0, 1), (0, 0, 1), (0, 0, [0, 1, 1]), (0, 0)),
        block_type='basicblock'),
    pts_backbone=dict(
        in_channels=256,
        out_channels=[128, 256],
        layer_nums=[5, 5],
        layer_strides=[1, 2]),
    pts_neck=dict(
        in_channels=[128, 256],
        out_channels=[256, 256],
        upsample_strides=[1, 2]),
    pts_bbox_head=dict(
        in_channels=sum([256, 256]),
        bbox_coder=dict(
            out_size_factor=out_size_factor, voxel_size=voxel_size[:2])),
    train_cfg=dict(
        pts=dict(
            grid_size=[496, 496, 41],
            voxel_size=voxel_size,
            out_size_factor=out_size_factor)),
    test_cfg=dict(
        pts=dict(
            out_size_factor=out_size_factor, voxel_size=voxel_size[:2])))
