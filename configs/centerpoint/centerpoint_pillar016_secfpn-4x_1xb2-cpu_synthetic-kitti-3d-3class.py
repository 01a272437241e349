# The 4x-compressed CenterPoint student: every width of
# centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py halved
# (about 4x fewer multiply-adds in the backbone and neck); same grid, tasks
# and head layout, so its heatmaps match the teacher's pixel for pixel.
_base_ = ['./centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501
model = dict(
    pts_voxel_encoder=dict(feat_channels=[32]),
    pts_middle_encoder=dict(in_channels=32),
    pts_backbone=dict(in_channels=32, out_channels=[32, 64, 128]),
    pts_neck=dict(in_channels=[32, 64, 128], out_channels=[64, 64, 64]),
    pts_bbox_head=dict(in_channels=192, share_conv_channel=32))
