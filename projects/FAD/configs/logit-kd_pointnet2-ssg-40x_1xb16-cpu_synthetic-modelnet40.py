# Baseline: logit KD (softmax KL at T=4 on head.fc_cls) from the PointNet++
# SSG teacher into the 40x student, synthetic ModelNet40, CPU sizing.
_base_ = [
    '../../../configs/pointnet2_cls/'
    'pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py',
    '../../../configs/_base_/distill/logit_kd_pointnet2_cls.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-modelnet40.py'  # noqa: E501
teacher_ckpt = 'work_dirs/fad_teacher/epoch_30.pth'
