# Heatmap and feature KD for CenterPoint (our design, no published recipe
# followed): per task head, the student's center heatmap against the
# teacher's (CenterHeatmapKDLoss: Bernoulli KL per pixel and class,
# normalised by the teacher's soft count of centres), and the student's BEV
# neck (through a 1x1 adapter) against the teacher's at the pixels where a
# teacher heatmap exceeds 0.3 (TeacherMaskedFeatureLoss, reading the
# heatmaps as `teacher_context`). Written for two tasks (the synthetic KITTI
# configs: Pedestrian + Cyclist, Car); add or drop loss_kd_heatmap<i> terms
# and context maps for another task list. Weights not yet calibrated.
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
            teacher='pts_bbox_head.task_heads.1.heatmap'),
        loss_kd_neck=dict(
            type='TeacherMaskedFeatureLoss',
            threshold=0.3,
            loss_weight=1.0,
            student='pts_neck',
            teacher='pts_neck',
            adapter=dict(type='ChannelAdapter'),
            teacher_context=[
                'pts_bbox_head.task_heads.0.heatmap',
                'pts_bbox_head.task_heads.1.heatmap'
            ])))
