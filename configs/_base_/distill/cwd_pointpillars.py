# Channel-wise distillation (CWD) on PointPillars' BEV neck output.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_cwd=dict(
            type='ChannelWiseDistillLoss',
            tau=1.0,
            loss_weight=1.0,
            student='neck',
            teacher='neck',
            adapter=dict(type='ChannelAdapter'))))
