# FAD on the synthetic ScanObjectNN (OBJ_BG; xyz only, 15 classes):
# PointNet++ SSG teacher (1,465,935 params) -> 40x student (34,543). Train
# the teacher first:
#   python tools/train.py configs/pointnet2_cls/\
#       pointnet2-ssg_1xb16-cpu_synthetic-scanobjectnn.py \
#       --work-dir work_dirs/fad_teacher_scanobjectnn  (one path, no space)
_base_ = [
    '../../../configs/pointnet2_cls/'
    'pointnet2-ssg-40x_1xb16-cpu_synthetic-scanobjectnn.py',
    '../../../configs/_base_/distill/fad_pointnet2_cls.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-scanobjectnn.py'  # noqa: E501
teacher_ckpt = 'work_dirs/fad_teacher_scanobjectnn/epoch_30.pth'

optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-3, weight_decay=1e-4)),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
