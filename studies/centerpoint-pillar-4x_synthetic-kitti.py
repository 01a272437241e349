# CenterPoint (pillars) 4x student on synthetic KITTI: does heatmap KD
# (the CenterPoint analogue of logit KD) help, and does teacher-masked BEV
# feature KD add to it? Same data as the PointDistiller study
# (data/study_kitti, 800 train / 700 val scans). Run with
#   nice python tools/study.py \
#       studies/centerpoint-pillar-4x_synthetic-kitti.py
# (resumable: rerun the same command).
_base_ = ['./_base_/synthetic-kitti_800-700.py']

_cp = 'configs/centerpoint/'
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
    dict(name='teacher', role='teacher',
         config=_cp + 'centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py',
         schedule=dict(max_epochs=8, val_interval=1)),
]
