# FAD: PointNet++ SSG teacher (1,472,552 params) -> 40x student (36,616)
# on the synthetic ModelNet40, CPU sizing. Train the teacher first:
#   python tools/train.py \
#       configs/pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-modelnet40.py \
#       --work-dir work_dirs/fad_teacher
_base_ = [
    '../../../configs/pointnet2_cls/'
    'pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py',
    '../../../configs/_base_/distill/fad_pointnet2_cls.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-modelnet40.py'  # noqa: E501
teacher_ckpt = 'work_dirs/fad_teacher/epoch_30.pth'

# the student's own optimizer (as in its config) + the discriminator's
optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-3, weight_decay=1e-4)),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
