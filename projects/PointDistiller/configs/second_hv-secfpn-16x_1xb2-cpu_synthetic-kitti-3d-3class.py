# SECOND student compressed 16x (every width / 4) on the synthetic KITTI
# data, CPU sizing as the teacher's config.
_base_ = ['../../../configs/second/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501

model = dict(
    middle_encoder=dict(
        base_channels=4,
        output_channels=32,
        encoder_channels=((4, ), (8, 8, 8), (16, 16, 16), (16, 16, 16))),
    backbone=dict(in_channels=64, out_channels=[32, 64]),
    neck=dict(in_channels=[32, 64], out_channels=[64, 64]),
    bbox_head=dict(in_channels=128, feat_channels=128))
