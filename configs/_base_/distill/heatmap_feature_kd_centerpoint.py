# Heatmap KD (heatmap_kd_centerpoint.py) plus feature KD on CenterPoint's
# BEV neck (our design): the student's neck output, through a 1x1 adapter,
# against the teacher's at the pixels where any teacher heatmap exceeds 0.3
# (TeacherMaskedFeatureLoss, reading the teacher's heatmaps as its
# `teacher_context`). Written for two task heads, like its base.
_base_ = ['./heatmap_kd_centerpoint.py']
distiller = dict(
    distill_losses=dict(
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
