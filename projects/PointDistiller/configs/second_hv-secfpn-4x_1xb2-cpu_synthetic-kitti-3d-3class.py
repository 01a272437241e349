# SECOND student compressed 4x (every width / 2) on the synthetic KITTI
# data, CPU sizing as the teacher's config.
_base_ = ['../../../configs/second/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501

model = dict(
    middle_encoder=dict(
        base_channels=8,
        output_channels=64,
        encoder_channels=((8, ), (16, 16, 16), (32, 32, 32), (32, 32, 32))),
    backbone=dict(in_channels=128, out_channels=[64, 128]),
    neck=dict(in_channels=[64, 128], out_channels=[128, 128]),
    bbox_head=dict(in_channels=256, feat_channels=256))
