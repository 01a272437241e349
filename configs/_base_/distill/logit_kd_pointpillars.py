# Logit KD on PointPillars' anchor classification map (B, A*C, H, W):
# per-class binary KL at temperature T (the head is sigmoid-based). Teacher
# and student must predict the same classes with the same anchors.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_cls=dict(
            type='KDLogitLoss',
            mode='sigmoid',
            temperature=1.0,
            loss_weight=1.0,
            student='bbox_head.conv_cls',
            teacher='bbox_head.conv_cls')))
