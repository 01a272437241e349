_base_ = [
    './pointpillars_hv-secfpn-16x_8xb6-160e_kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_pillars.py'
]
teacher_cfg = 'mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class/epoch_80.pth'  # noqa: E501
