# M2SKD's teacher, CPU-sized (configs/cylinder3d CPU config: 8 base
# channels) on synthetic SemanticKITTI: trained on the scan plus the
# hard-class instances fused from the 4 earlier scans.
_base_ = [
    '../../../configs/cylinder3d/cylinder3d_1xb2-cpu_synthetic-semantickitti.py',  # noqa: E501
    './_base_/multiscan_pipeline.py'
]
train_dataloader = dict(
    dataset=dict(pipeline={{_base_.multiscan_train_pipeline}}))
