# Logit KD from MinkUNet-18 (width 16) into a half-width student (width 8:
# encoder 8-16-32-64, decoder 64-32-24-24), spconv backend, on the synthetic
# SemanticKITTI-format data.
_base_ = [
    '../minkunet/minkunet18_w16_spconv_1xb2-cpu_synthetic-semantickitti.py',
    '../_base_/distill/logit_kd_minkunet.py'
]
teacher_cfg = '{{fileDirname}}/../minkunet/minkunet18_w16_spconv_1xb2-cpu_synthetic-semantickitti.py'  # noqa: E501
teacher_ckpt = 'work_dirs/minkunet18_w16_spconv_1xb2-cpu_synthetic-semantickitti/epoch_15.pth'  # noqa: E501
model = dict(
    backbone=dict(
        base_channels=8,
        encoder_channels=[8, 16, 32, 64],
        decoder_channels=[64, 32, 24, 24]),
    decode_head=dict(channels=24))
