# CenterPoint (pillar encoder, SECOND backbone, SECFPN neck, CenterHead) on
# the synthetic KITTI-format data of tools/create_synthetic_data.py, with
# the CPU-sized PointPillars config's data, pipeline and schedule. mmdet3d
# ships CenterPoint for nuScenes only; this config changes what KITTI needs:
# 4 point features, the 3 KITTI classes as two tasks in the data set's
# label order (CenterHead assumes it), 7 box values (mmdet3d 1.4's
# CenterHead builds velocity targets whatever the data set: the boxes get a
# zero velocity (AddZeroVelocity) and the `vel` head code weight 0), the
# near 39.68 x 39.68 m square of the CPU PointPillars config on a 0.16 m
# pillar grid (248 x 248) and an output stride of 2 (124 x 124 heatmaps).
# For real KITTI, point `data_root` at an mmdet3d-prepared KITTI folder.
_base_ = [
    '../pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
]
point_cloud_range = [0, -19.84, -3, 39.68, 19.84, 1]
voxel_size = [0.16, 0.16, 4]
out_size_factor = 2
model = dict(
    _delete_=True,
    type='CenterPoint',
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        voxel=True,
        voxel_layer=dict(
            max_num_points=32,
            point_cloud_range=point_cloud_range,
            voxel_size=voxel_size,
            max_voxels=(16000, 40000))),
    pts_voxel_encoder=dict(
        type='PillarFeatureNet',
        in_channels=4,
        feat_channels=[64],
        with_distance=False,
        voxel_size=voxel_size,
        point_cloud_range=point_cloud_range,
        norm_cfg=dict(type='BN1d', eps=1e-3, momentum=0.01),
        legacy=False),
    pts_middle_encoder=dict(
        type='PointPillarsScatter', in_channels=64, output_shape=[248, 248]),
    pts_backbone=dict(
        type='SECOND',
        in_channels=64,
        out_channels=[64, 128, 256],
        layer_nums=[3, 5, 5],
        layer_strides=[2, 2, 2],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        conv_cfg=dict(type='Conv2d', bias=False)),
    pts_neck=dict(
        type='SECONDFPN',
        in_channels=[64, 128, 256],
        out_channels=[128, 128, 128],
        upsample_strides=[1, 2, 4],
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        upsample_cfg=dict(type='deconv', bias=False),
        use_conv_for_no_stride=True),
    pts_bbox_head=dict(
        type='CenterHead',
        in_channels=sum([128, 128, 128]),
        # flattened, the tasks' classes follow the data set's label order
        # (Pedestrian, Cyclist, Car)
        tasks=[
            dict(num_class=2, class_names=['Pedestrian', 'Cyclist']),
            dict(num_class=1, class_names=['Car']),
        ],
        common_heads=dict(
            reg=(2, 2), height=(1, 2), dim=(3, 2), rot=(2, 2), vel=(2, 2)),
        share_conv_channel=64,
        bbox_coder=dict(
            type='CenterPointBBoxCoder',
            pc_range=point_cloud_range[:2],
            post_center_range=[-10, -30, -10, 50, 30, 10],
            max_num=100,
            score_threshold=0.1,
            out_size_factor=out_size_factor,
            voxel_size=voxel_size[:2],
            code_size=9),
        separate_head=dict(
            type='SeparateHead', init_bias=-2.19, final_kernel=3),
        loss_cls=dict(type='mmdet.GaussianFocalLoss', reduction='mean'),
        loss_bbox=dict(
            type='mmdet.L1Loss', reduction='mean', loss_weight=0.25),
        norm_bbox=True),
    train_cfg=dict(
        pts=dict(
            grid_size=[248, 248, 1],
            voxel_size=voxel_size,
            point_cloud_range=point_cloud_range,
            out_size_factor=out_size_factor,
            dense_reg=1,
            gaussian_overlap=0.1,
            max_objs=100,
            min_radius=2,
            # no velocity on KITTI: its (zero) targets do not count
            code_weights=[1.0] * 8 + [0.0, 0.0])),
    test_cfg=dict(
        pts=dict(
            post_center_limit_range=[-10, -30, -10, 50, 30, 10],
            max_per_img=100,
            max_pool_nms=False,
            min_radius=[0.85, 4],
            score_threshold=0.1,
            pc_range=point_cloud_range[:2],
            out_size_factor=out_size_factor,
            voxel_size=voxel_size[:2],
            nms_type='rotate',
            pre_max_size=1000,
            post_max_size=83,
            nms_thr=0.2)))

_train_pipeline = _base_.train_pipeline
train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=_train_pipeline[:-1] + [
            dict(type='AddZeroVelocity'), _train_pipeline[-1]
        ])))
