# PointRCNN student compressed 8x (every width / 2.83, rounded);
# synthetic KITTI data, CPU sizing as the teacher's config.
_base_ = [
    '../../../configs/point_rcnn/point-rcnn_1xb2-cpu_synthetic-kitti-3d-3class.py'
]  # noqa: E501

model = dict(backbone=dict(sa_channels=(((6, 6, 11), (11, 11, 23)),
                                        ((23, 23, 45), (23, 34, 45)),
                                        ((45, 69, 91), (45, 69, 91)),
                                        ((91, 91, 181), (91, 136, 181)))),
             neck=dict(fp_channels=((544, 181, 181), (271, 181, 181),
                                    (215, 91, 91), (92, 45, 45))),
             rpn_head=dict(pred_layer_cfg=dict(in_channels=45,
                                               cls_linear_channels=(91, 91),
                                               reg_linear_channels=(91, 91))),
             roi_head=dict(
                 bbox_head=dict(mlp_channels=[45, 45],
                                sa_channels=((45, 45, 45), (45, 45, 91),
                                             (91, 91, 181)),
                                pred_layer_cfg=dict(in_channels=181,
                                                    cls_conv_channels=(91, 91),
                                                    reg_conv_channels=(91,
                                                                       91)))))
