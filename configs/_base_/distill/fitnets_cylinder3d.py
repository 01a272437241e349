# FitNets on Cylinder3D's backbone output (sparse features at the
# cylindrical voxels both models share, matched by voxel index).
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_backbone=dict(
            type='FeatureMSELoss',
            loss_weight=1.0,
            student='backbone',
            teacher='backbone',
            adapter=dict(type='ChannelAdapter'))))
