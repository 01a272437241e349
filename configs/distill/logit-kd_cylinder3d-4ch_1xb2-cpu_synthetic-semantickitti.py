_base_ = [
    '../cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py',
    '../_base_/distill/logit_kd_cylinder3d.py'
]
teacher_cfg = '{{fileDirname}}/../cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py'  # noqa: E501
teacher_ckpt = 'work_dirs/cylinder3d_1xb2-cpu_synthetic-semantickitti/epoch_20.pth'  # noqa: E501
# student: 4 base channels instead of the teacher's 8
model = dict(backbone=dict(base_channels=4), decode_head=dict(channels=16))
