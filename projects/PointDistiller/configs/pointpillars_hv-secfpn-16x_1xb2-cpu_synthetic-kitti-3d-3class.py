# PointPillars student compressed 16x (every width / 4) on the synthetic
# KITTI data, CPU sizing as the teacher's config.
_base_ = ['../../../configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501

model = dict(
    voxel_encoder=dict(feat_channels=[16]),
    middle_encoder=dict(in_channels=16),
    backbone=dict(in_channels=16, out_channels=[16, 32, 64]),
    neck=dict(in_channels=[16, 32, 64], out_channels=[32, 32, 32]),
    bbox_head=dict(in_channels=96, feat_channels=96))
