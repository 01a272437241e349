_base_ = [
    './point-rcnn-8x_8xb2_kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_points.py'
]
teacher_cfg = 'mmdet3d::point_rcnn/point-rcnn_8xb2_kitti-3d-3class.py'
teacher_ckpt = 'work_dirs/point-rcnn_8xb2_kitti-3d-3class/epoch_80.pth'
