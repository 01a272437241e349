# Heatmap KD at the teacher's confident positions from the CenterPoint-pillar
# teacher to its 4x student on synthetic KITTI (CPU sizing).
_base_ = [
    '../centerpoint/centerpoint_pillar016_secfpn-4x_1xb2-cpu_synthetic-kitti-3d-3class.py',  # noqa: E501
    '../_base_/distill/confident_heatmap_kd_centerpoint.py'
]
teacher_cfg = '{{fileDirname}}/../centerpoint/centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
