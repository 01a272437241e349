# FAD on real-size ModelNet40 (1024 points with normals, 200 epochs, one
# GPU): PointNet++ SSG teacher -> 40x student. Point data_root (or
# --data-root) at modelnet40_normal_resampled/ and teacher_ckpt at the
# teacher trained with configs/pointnet2_cls/
# pointnet2-ssg_1xb24-200e_modelnet40.py.
_base_ = [
    '../../../configs/pointnet2_cls/'
    'pointnet2-ssg-40x_1xb24-200e_modelnet40.py',
    '../../../configs/_base_/distill/fad_pointnet2_cls.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointnet2_cls/pointnet2-ssg_1xb24-200e_modelnet40.py'  # noqa: E501
teacher_ckpt = 'work_dirs/pointnet2-ssg_1xb24-200e_modelnet40/best_overall_acc.pth'  # noqa: E501

optim_wrapper = dict(
    _delete_=True,
    constructor='AdversarialOptimWrapperConstructor',
    student=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4)),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))
