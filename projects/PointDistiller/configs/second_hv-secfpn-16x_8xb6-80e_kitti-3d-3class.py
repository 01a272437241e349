# SECOND student compressed 16x (every width / 4), mmdet3d's KITTI 3-class
# config otherwise unchanged.
_base_ = ['mmdet3d::second/second_hv_secfpn_8xb6-80e_kitti-3d-3class.py']

model = dict(
    middle_encoder=dict(
        base_channels=4,
        output_channels=32,
        encoder_channels=((4, ), (8, 8, 8), (16, 16, 16), (16, 16, 16))),
    backbone=dict(in_channels=64, out_channels=[32, 64]),
    neck=dict(in_channels=[32, 64], out_channels=[64, 64]),
    bbox_head=dict(in_channels=128, feat_channels=128))
