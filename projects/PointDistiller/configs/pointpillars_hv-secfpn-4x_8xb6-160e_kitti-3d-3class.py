# PointPillars student compressed 4x (every width / 2), mmdet3d's KITTI
# 3-class config otherwise unchanged.
_base_ = ['mmdet3d::pointpillars/pointpillars_hv_secfpn_8xb6-160e_kitti-3d-3class.py']  # noqa: E501

model = dict(
    voxel_encoder=dict(feat_channels=[32]),
    middle_encoder=dict(in_channels=32),
    backbone=dict(in_channels=32, out_channels=[32, 64, 128]),
    neck=dict(in_channels=[32, 64, 128], out_channels=[64, 64, 64]),
    bbox_head=dict(in_channels=192, feat_channels=192))
