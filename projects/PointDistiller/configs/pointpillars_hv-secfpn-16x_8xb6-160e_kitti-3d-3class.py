# PointPillars student compressed 16x (every width / 4), mmdet3d's KITTI
# 3-class config otherwise unchanged.
_base_ = ['mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py']  # noqa: E501

model = dict(
    voxel_encoder=dict(feat_channels=[16]),
    middle_encoder=dict(in_channels=16),
    backbone=dict(in_channels=16, out_channels=[16, 32, 64]),
    neck=dict(in_channels=[16, 32, 64], out_channels=[32, 32, 32]),
    bbox_head=dict(in_channels=96, feat_channels=96))
