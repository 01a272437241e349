# PointDistiller on pillar features (PillarFeatureNet output, (M, C) per
# non-empty pillar): top-N pillars by point count, kNN graph in the
# teacher's feature space, EdgeConv adapters, reweighted MSE. Paper
# defaults (N=6000, K=128, tau=0.01); student and teacher pillars match by
# index (same voxelization; set match='coors' or 'nearest' otherwise).
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_pointdistiller=dict(
            type='PointDistillerLoss',
            num_nodes=6000,
            k=128,
            tau=0.01,
            score='count',
            loss_weight=1.0,
            student='voxel_encoder',
            teacher='voxel_encoder')))
