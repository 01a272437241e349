# PointDistiller (pillar features, default weights) and logit KD in one run,
# each term at its own study weight (each ~0.3x the task gradient): does
# the local-graph feature term add anything to the outputs' knowledge? The
# study pairs this row with logit KD alone (its `reference` row), so the
# difference there is PointDistiller's own share. Our combination, not one
# of the paper's rows.
_base_ = ['./pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py']  # noqa: E501
distiller = dict(
    distill_losses=dict(
        loss_kd_cls=dict(
            type='KDLogitLoss',
            mode='sigmoid',
            temperature=1.0,
            loss_weight=200.0,
            student='bbox_head.conv_cls',
            teacher='bbox_head.conv_cls')))
