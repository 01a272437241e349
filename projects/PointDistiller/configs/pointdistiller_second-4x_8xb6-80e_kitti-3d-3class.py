_base_ = [
    './second_hv-secfpn-4x_8xb6-80e_kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_second.py'
]
teacher_cfg = 'mmdet3d::second/second_hv_secfpn_8xb6-80e_kitti-3d-3class.py'
teacher_ckpt = 'work_dirs/second_hv_secfpn_8xb6-80e_kitti-3d-3class/epoch_80.pth'  # noqa: E501
