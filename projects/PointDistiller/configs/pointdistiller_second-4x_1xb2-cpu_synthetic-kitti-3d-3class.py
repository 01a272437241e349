_base_ = [
    './second_hv-secfpn-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_second.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/second/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
# CPU sizing of the graphs
distiller = dict(
    distill_losses=dict(
        loss_kd_pointdistiller_level0=dict(k=16),
        loss_kd_pointdistiller_level1=dict(k=16)))
