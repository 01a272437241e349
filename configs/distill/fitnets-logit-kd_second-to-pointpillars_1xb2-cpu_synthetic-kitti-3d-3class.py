# A teacher of another architecture: SECOND (sparse 3D convolutions, 0.05 m
# voxels, 70.4 x 80 m range, BEV maps at stride 8: 176 x 200 pixels of
# 0.4 m) distilled into PointPillars (0.16 m pillars, the CPU config's
# 39.68 m square, neck at stride 2: 124 x 124 pixels of 0.32 m).
# - FitNets on the BEV neck, (B, 384, 124, 124) student vs (B, 512, 200,
#   176) teacher: the teacher's map is sampled at the student's pixel
#   centres (metric positions, bilinear) and a 1x1 adapter maps 384 -> 512.
# - Logit KD on the anchor classification maps: both heads are mmdet3d's
#   KITTI 3-class Anchor3DHead with the same anchor sizes and rotations
#   (6 anchors x 3 classes = 18 channels), so class scores of the same
#   anchor at the same place are compared, after the same resampling.
# Only the points inside the student's range reach the teacher (the
# student's pipeline filters them).
_base_ = [
    '../pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py',  # noqa: E501
    '../_base_/distill/fitnets_pointpillars.py'
]
teacher_cfg = '{{fileDirname}}/../second/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/second_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
distiller = dict(
    distill_losses=dict(
        loss_kd_cls=dict(
            type='KDLogitLoss',
            mode='sigmoid',
            temperature=1.0,
            loss_weight=1.0,
            student='bbox_head.conv_cls',
            teacher='bbox_head.conv_cls')))
