# CenterPoint (pillars) 4x student on synthetic KITTI: does heatmap KD
# (the CenterPoint analogue of logit KD) help, and does teacher-masked BEV
# feature KD add to it? Same data as the PointDistiller study
# (data/study_kitti, 800 train / 700 val scans). Run with
#   nice python tools/study.py \
#       studies/centerpoint-pillar-4x_synthetic-kitti.py \
#       --out-dir studies/results/centerpoint-pillar-4x_synthetic-kitti
# (resumable: rerun the same command; the ledger next to the report keeps
# every finished run for a session whose work dir is gone).
_base_ = ['./_base_/synthetic-kitti_800-700.py']

_cp = 'configs/centerpoint/'
# heatmap KD is this family's logit KD, the positive control: the combined
# row is also paired with it, seed by seed (does the feature term add?)
reference = '+ heatmap KD'
# The teacher: 8 epochs (3200 iterations) validated every epoch, as the
# PointPillars teacher of the same data and schedule needed (BEV mAP 73.3 /
# 77.4 / 78.9 / 80.4 / 80.7 at epochs 4-8: flat by epoch 8); 2.3 s per
# step on one core (2026-12-05), about 2.7 h with its validations; it
# resumes from its last epoch when a session ends (rerun the command).
rows = [
    dict(name='student 4x', role='student',
         config=_cp + 'centerpoint_pillar016_secfpn-4x_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py'),
    dict(name='+ heatmap KD', role='method',
         config='configs/distill/heatmap-kd_centerpoint-pillar016-4x_'
         '1xb2-cpu_synthetic-kitti-3d-3class.py'),
    dict(name='+ heatmap and masked feature KD', role='method',
         config='configs/distill/heatmap-feature-kd_centerpoint-'
         'pillar016-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'),
    # added after the first two '+ heatmap KD' seeds lost points: that term
    # (KL over every pixel) spends 87% of its value on the background; this
    # one weights each pixel by the teacher's confidence (SparseKD's
    # soft-masked heatmap KD, weight 7 per task)
    dict(name='+ confident-pixel heatmap KD', role='method',
         config='configs/distill/confident-heatmap-kd_centerpoint-'
         'pillar016-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'),
    dict(name='teacher', role='teacher',
         config=_cp + 'centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py',
         schedule=dict(max_epochs=8, val_interval=1)),
]
