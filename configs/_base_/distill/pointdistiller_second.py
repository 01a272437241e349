# PointDistiller on SECOND's two backbone BEV maps, (B, 128, H, W) and
# (B, 256, H/2, W/2) for the teacher: per sample and level the top N=256
# pixels by the teacher's maximum response, kNN graph in the teacher's
# feature space, EdgeConv adapters, reweighted MSE. tau=1 for response
# scores is our choice (the paper gives tau only for point counts).
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_pointdistiller_level0=dict(
            type='PointDistillerLoss',
            num_nodes=256,
            k=128,
            tau=1.0,
            score='max_response',
            loss_weight=1.0,
            student=dict(module='backbone', output=0),
            teacher=dict(module='backbone', output=0)),
        loss_kd_pointdistiller_level1=dict(
            type='PointDistillerLoss',
            num_nodes=256,
            k=128,
            tau=1.0,
            score='max_response',
            loss_weight=1.0,
            student=dict(module='backbone', output=1),
            teacher=dict(module='backbone', output=1))))
