# SECOND student compressed 4x (every width / 2), mmdet3d's KITTI 3-class
# config otherwise unchanged.
_base_ = ['mmdet3d::second/second_hv_secfpn_8xb6-80e_kitti-3d-3class.py']

model = dict(
    middle_encoder=dict(
        base_channels=8,
        output_channels=64,
        encoder_channels=((8, ), (16, 16, 16), (32, 32, 32), (32, 32, 32))),
    backbone=dict(in_channels=128, out_channels=[64, 128]),
    neck=dict(in_channels=[64, 128], out_channels=[128, 128]),
    bbox_head=dict(in_channels=256, feat_channels=256))
