# Heatmap KD for CenterPoint (our design, no published recipe followed):
# per task head, the student's center heatmap against the teacher's
# (CenterHeatmapKDLoss: Bernoulli KL per pixel and class of the
# sigmoid-softened maps, normalised by the teacher's soft count of centres,
# as CenterHead's focal loss is by its positives). Written for two tasks
# (the synthetic KITTI configs: Pedestrian + Cyclist, Car); add or drop
# loss_kd_heatmap<i> terms for another task list. The CenterPoint analogue
# of logit KD; heatmap_feature_kd_centerpoint.py adds feature KD on the BEV
# neck. Weights: see the distillation configs that use it.
runner_type = 'Distill3DRunner'
distiller = dict(
    type='Distiller3D',
    distill_losses=dict(
        loss_kd_heatmap0=dict(
            type='CenterHeatmapKDLoss',
            mode='kl',
            temperature=1.0,
            loss_weight=1.0,
            student='pts_bbox_head.task_heads.0.heatmap',
            teacher='pts_bbox_head.task_heads.0.heatmap'),
        loss_kd_heatmap1=dict(
            type='CenterHeatmapKDLoss',
            mode='kl',
            temperature=1.0,
            loss_weight=1.0,
            student='pts_bbox_head.task_heads.1.heatmap',
            teacher='pts_bbox_head.task_heads.1.heatmap')))
