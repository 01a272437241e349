# M2SKD, CPU-sized, on synthetic SemanticKITTI: the single-scan student
# (same network as the teacher, 8 base channels) distilled from the frozen
# multi-scan teacher of cylinder3d-multiscan_1xb2-cpu_synthetic-
# semantickitti.py.
_base_ = [
    '../../../configs/cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py',  # noqa: E501
    '../../../configs/_base_/distill/m2skd_cylinder3d.py'
]
teacher_cfg = '{{fileDirname}}/cylinder3d-multiscan_1xb2-cpu_synthetic-semantickitti.py'  # noqa: E501
teacher_ckpt = 'work_dirs/cylinder3d-multiscan_1xb2-cpu_synthetic-semantickitti/epoch_20.pth'  # noqa: E501
train_dataloader = dict(dataset=dict(pipeline={{_base_.m2skd_train_pipeline}}))  # noqa: E501
