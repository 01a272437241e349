# PointDistiller on PointRCNN's point features after the FP layers,
# (B, 128, N) for the teacher, with the points' xyz: top N=6000 points by the
# teacher's maximum response, kNN graph in the teacher's feature space,
# EdgeConv adapters, reweighted MSE. Both models see the same sampled points,
# so points correspond by index. tau=1 for response scores is our choice.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_pointdistiller=dict(
            type='PointDistillerLoss',
            num_nodes=6000,
            k=128,
            tau=1.0,
            score='max_response',
            loss_weight=1.0,
            student=dict(
                module='neck',
                output='fp_features',
                xyz='fp_xyz',
                kind='points'),
            teacher=dict(
                module='neck',
                output='fp_features',
                xyz='fp_xyz',
                kind='points'))))
