# PointPillars student compressed 4x (every width / 2) on the synthetic
# KITTI data, CPU sizing as the teacher's config.
_base_ = ['../../../configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501

model = dict(
    voxel_encoder=dict(feat_channels=[32]),
    middle_encoder=dict(in_channels=32),
    backbone=dict(in_channels=32, out_channels=[32, 64, 128]),
    neck=dict(in_channels=[32, 64, 128], out_channels=[64, 64, 64]),
    bbox_head=dict(in_channels=192, feat_channels=192))
