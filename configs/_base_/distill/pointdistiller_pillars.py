# PointDistiller on pillar features (PillarFeatureNet output, (M, C) per
# non-empty pillar): top-N pillars by point count, kNN graph in the
# teacher's feature space, EdgeConv adapters, reweighted MSE. Paper sizes
# (N=6000, K=128). Reweighting: w = N * count^(1/tau) / sum(count^(1/tau))
# with tau=1 (a pillar weighs its share of the points), which spreads the
# weight alike on 32- and 64-beam scans; the paper's N * softmax(count /
# 0.01) is weighting='softmax', tau=0.01 (on sparse scans it puts ~all the
# weight on one pillar; see projects/PointDistiller/README.md). Student and
# teacher pillars match by index (same voxelization; set match='coors' or
# 'nearest' otherwise).
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_pointdistiller=dict(
            type='PointDistillerLoss',
            num_nodes=6000,
            k=128,
            weighting='power',
            tau=1.0,
            score='count',
            loss_weight=1.0,
            student='voxel_encoder',
            teacher='voxel_encoder')))
