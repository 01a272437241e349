# M2SKD on SemanticKITTI: a single-scan Cylinder3D student distilled from
# the frozen multi-scan teacher (train it first with
# cylinder3d-multiscan_4xb4-3x_semantickitti.py). Evaluated with mmdet3d's
# SegMetric on single scans.
_base_ = [
    'mmdet3d::cylinder3d/cylinder3d_4xb4-3x_semantickitti.py',
    '../../../configs/_base_/distill/m2skd_cylinder3d.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)
teacher_cfg = '{{fileDirname}}/cylinder3d-multiscan_4xb4-3x_semantickitti.py'  # noqa: E501
teacher_ckpt = 'work_dirs/cylinder3d-multiscan_4xb4-3x_semantickitti/epoch_36.pth'  # noqa: E501
train_dataloader = dict(dataset=dict(pipeline={{_base_.m2skd_train_pipeline}}))  # noqa: E501
