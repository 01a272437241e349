# PointDistiller on the BEV neck with its graphs on the objects the teacher
# sees (our variant): nodes are the N pixels of each scan where the
# teacher's anchor classification (bbox_head.conv_cls, sigmoid, largest over
# anchors and classes) is most confident, each weighted by that confidence
# (weighting='power', tau=1: w proportional to p), instead of the pixels of
# largest feature response, which on our scans are mostly dense ground near
# the sensor. The target is the teacher's own edge features (as the
# teacher-edges variant: no parameter can move it). Loss weight by the
# study's rule (gradient ~0.3x the task losses'): at lambda = 1 the term's
# gradient is 0.15x the task gradient, cosine -0.00 (tools/kd_grad_ratio.py
# with the study's teacher and the trained plain student of seed 0, 4
# batches), so 2.
_base_ = ['./pointdistiller-bev-teacher-edges_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501
distiller = dict(
    distill_losses=dict(
        loss_kd_pointdistiller=dict(
            score='teacher_context',
            teacher_context='bbox_head.conv_cls',
            loss_weight=2.0)))
