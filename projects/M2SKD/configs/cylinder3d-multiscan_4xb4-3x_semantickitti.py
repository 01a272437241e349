# M2SKD's teacher: mmdet3d's Cylinder3D trained on the scan plus the
# hard-class instances fused from the 4 earlier scans (validation on single
# scans, as mmdet3d's config).
_base_ = [
    'mmdet3d::cylinder3d/cylinder3d_4xb4-3x_semantickitti.py',
    './_base_/multiscan_pipeline.py'
]
custom_imports = dict(imports=['distill3d'], allow_failed_imports=False)
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.multiscan_train_pipeline}}))
