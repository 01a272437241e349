_base_ = [
    '../pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',  # noqa: E501
    '../_base_/distill/fitnets_pointpillars.py'
]
teacher_cfg = '{{fileDirname}}/../pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
# 4x compressed student: every width / 2
model = dict(
    voxel_encoder=dict(feat_channels=[32]),
    middle_encoder=dict(in_channels=32),
    backbone=dict(in_channels=32, out_channels=[32, 64, 128]),
    neck=dict(in_channels=[32, 64, 128], out_channels=[64, 64, 64]),
    bbox_head=dict(in_channels=192, feat_channels=192))
