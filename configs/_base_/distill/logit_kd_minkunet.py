# Logit KD on MinkUNet's voxel logits (decode_head.conv_seg, a Linear over
# the (N, C) voxel features): softmax KL at temperature T over the voxels.
# Teacher and student voxelize the same batch alike (the same
# data_preprocessor), so their voxels correspond one to one.
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
