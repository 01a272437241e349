# PointRCNN student compressed 16x (every width / 4, rounded);
# synthetic KITTI data, CPU sizing as the teacher's config.
_base_ = [
    '../../../configs/point_rcnn/point-rcnn_1xb2-cpu_synthetic-kitti-3d-3class.py'
]  # noqa: E501

model = dict(
    backbone=dict(sa_channels=(((4, 4, 8), (8, 8, 16)),
                               ((16, 16, 32), (16, 24, 32)), ((32, 49, 64),
                                                              (32, 49, 64)),
                               ((64, 64, 128), (64, 96, 128)))),
    neck=dict(fp_channels=((384, 128, 128), (192, 128, 128), (152, 64, 64),
                           (65, 32, 32))),
    rpn_head=dict(pred_layer_cfg=dict(in_channels=32,
                                      cls_linear_channels=(64, 64),
                                      reg_linear_channels=(64, 64))),
    roi_head=dict(bbox_head=dict(mlp_channels=[32, 32],
                                 sa_channels=((32, 32, 32), (32, 32, 64),
                                              (64, 64, 128)),
                                 pred_layer_cfg=dict(in_channels=128,
                                                     cls_conv_channels=(64,
                                                                        64),
                                                     reg_conv_channels=(64,
                                                                        64)))))
