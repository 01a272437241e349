# Heatmap KD at the teacher's confident positions (the soft-masked heatmap
# KD of SparseKD's released CenterPoint configs, without their ground-truth
# Gaussian factor): per task head, the squared error of the student's and
# the teacher's center heatmap probabilities, each pixel weighted by the
# teacher's largest class probability there and divided by the sum of those
# weights (CenterHeatmapKDLoss, mode='mse', pixels='teacher'). Weight 7 per
# task as in SparseKD's cp-pillar configs. heatmap_kd_centerpoint.py (KL
# over every pixel) is dominated by the background; this is not.
_base_ = ['./heatmap_kd_centerpoint.py']
_term = dict(mode='mse', pixels='teacher', temperature=1.0, loss_weight=7.0)
distiller = dict(
    distill_losses=dict(loss_kd_heatmap0=_term, loss_kd_heatmap1=_term))
