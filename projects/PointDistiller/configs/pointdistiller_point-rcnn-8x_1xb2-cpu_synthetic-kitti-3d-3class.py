_base_ = [
    './point-rcnn-8x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_points.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/point_rcnn/point-rcnn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/point-rcnn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
# CPU sizing of the graph (8192 sampled points per scan)
distiller = dict(
    distill_losses=dict(loss_kd_pointdistiller=dict(num_nodes=1024, k=16)))
