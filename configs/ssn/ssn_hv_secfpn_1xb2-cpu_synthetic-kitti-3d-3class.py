# SSN (shape signature networks: mmdet3d's `ssn_hv_secfpn_sbn-all_16xb2-2x_
# nus-3d.py`, i.e. hard VFE pillars, SECOND backbone, SECFPN neck and the
# shape-aware head) on the synthetic KITTI-format data, with the CPU-sized
# PointPillars config's data, pipeline and schedule. mmdet3d ships SSN for
# nuScenes and Lyft only; its head groups classes by shape, so a KITTI
# config regroups the head, not only the data set: Pedestrian and Cyclist
# as small-object tasks (stride-1 shared convs, like nuScenes' pedestrian
# and bicycle groups) and Car as a large-object task (stride 2, like
# nuScenes' car), in the data set's label order; one anchor size per class
# (KITTI's), KITTI's anchor heights; 7 box values (no velocity); the
# per-class assigners of the KITTI PointPillars config; the near 39.68 x
# 39.68 m square of the CPU PointPillars config on a 0.16 m pillar grid
# (nuScenes: 0.25 m, 20 points per pillar, kept). Plain BN instead of
# naiveSyncBN (one process). For real KITTI, point `data_root` at an
# mmdet3d-prepared KITTI folder.
_base_ = [
    '../pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
]
point_cloud_range = [0, -19.84, -3, 39.68, 19.84, 1]
voxel_size = [0.16, 0.16, 4]
norm_2d = dict(type='BN', eps=1e-3, momentum=0.01)
_task = dict(shared_conv_channels=(64, 64), shared_conv_strides=(1, 1),
             norm_cfg=norm_2d)
_assigner = dict(
    type='Max3DIoUAssigner', iou_calculator=dict(type='BboxOverlapsNearest3D'),
    ignore_iof_thr=-1)
model = dict(
    _delete_=True,
    type='MVXFasterRCNN',
    data_preprocessor=dict(
        type='Det3DDataPreprocessor',
        voxel=True,
        voxel_layer=dict(
            max_num_points=20,
            point_cloud_range=point_cloud_range,
            voxel_size=voxel_size,
            max_voxels=(16000, 40000))),
    pts_voxel_encoder=dict(
        type='HardVFE',
        in_channels=4,
        feat_channels=[64, 64],
        with_distance=False,
        voxel_size=voxel_size,
        with_cluster_center=True,
        with_voxel_center=True,
        point_cloud_range=point_cloud_range,
        norm_cfg=dict(type='BN1d', eps=1e-3, momentum=0.01)),
    pts_middle_encoder=dict(
        type='PointPillarsScatter', in_channels=64, output_shape=[248, 248]),
    pts_backbone=dict(
        type='SECOND',
        in_channels=64,
        norm_cfg=norm_2d,
        layer_nums=[3, 5, 5],
        layer_strides=[2, 2, 2],
        out_channels=[64, 128, 256]),
    pts_neck=dict(
        type='SECONDFPN',
        norm_cfg=norm_2d,
        in_channels=[64, 128, 256],
        upsample_strides=[1, 2, 4],
        out_channels=[128, 128, 128]),
    pts_bbox_head=dict(
        type='ShapeAwareHead',
        num_classes=3,
        in_channels=384,
        feat_channels=384,
        use_direction_classifier=True,
        anchor_generator=dict(
            type='AlignedAnchor3DRangeGeneratorPerCls',
            ranges=[[0, -19.84, -0.6, 39.68, 19.84, -0.6],
                    [0, -19.84, -0.6, 39.68, 19.84, -0.6],
                    [0, -19.84, -1.78, 39.68, 19.84, -1.78]],
            sizes=[[0.8, 0.6, 1.73], [1.76, 0.6, 1.73], [3.9, 1.6, 1.56]],
            rotations=[0, 1.57],
            reshape_out=False),
        tasks=[
            dict(num_class=1, class_names=['Pedestrian'], **_task),
            dict(num_class=1, class_names=['Cyclist'], **_task),
            dict(
                num_class=1,
                class_names=['Car'],
                shared_conv_channels=(64, 64, 64),
                shared_conv_strides=(2, 1, 1),
                norm_cfg=norm_2d),
        ],
        assign_per_class=True,
        diff_rad_by_sin=True,
        dir_offset=-0.7854,  # -pi/4
        dir_limit_offset=0,
        bbox_coder=dict(type='DeltaXYZWLHRBBoxCoder'),
        loss_cls=dict(
            type='mmdet.FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=1.0),
        loss_bbox=dict(
            type='mmdet.SmoothL1Loss', beta=1.0 / 9.0, loss_weight=1.0),
        loss_dir=dict(
            type='mmdet.CrossEntropyLoss', use_sigmoid=False,
            loss_weight=0.2)),
    train_cfg=dict(
        pts=dict(
            assigner=[
                dict(pos_iou_thr=0.5, neg_iou_thr=0.35, min_pos_iou=0.35,
                     **_assigner),  # Pedestrian
                dict(pos_iou_thr=0.5, neg_iou_thr=0.35, min_pos_iou=0.35,
                     **_assigner),  # Cyclist
                dict(pos_iou_thr=0.6, neg_iou_thr=0.45, min_pos_iou=0.45,
                     **_assigner),  # Car
            ],
            allowed_border=0,
            code_weight=[1.0] * 7,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        pts=dict(
            use_rotate_nms=True,
            nms_across_levels=False,
            nms_pre=1000,
            nms_thr=0.01,
            score_thr=0.1,
            min_bbox_size=0,
            max_num=50)))
