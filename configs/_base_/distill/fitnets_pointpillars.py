# FitNets (feature MSE through a 1x1 channel adapter) on PointPillars' BEV
# neck output, (B, 384, H, W) for the teacher. Inherit it next to your own
# PointPillars config and set teacher_cfg / teacher_ckpt.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_neck=dict(
            type='FeatureMSELoss',
            loss_weight=1.0,
            student='neck',
            teacher='neck',
            adapter=dict(type='ChannelAdapter'))))
