# Logit KD on Cylinder3D's voxel logits (decode_head.conv_seg), softmax KL at
# temperature T over the voxels both models share.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_logits=dict(
            type='KDLogitLoss',
            mode='softmax',
            temperature=2.0,
            loss_weight=1.0,
            student='decode_head.conv_seg',
            teacher='decode_head.conv_seg')))
