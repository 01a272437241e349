# CenterPoint (pillars) 4x student on synthetic KITTI: do heatmap KD and
# teacher-masked BEV feature KD help? Same data as the PointDistiller study
# (data/study_kitti, 800 train / 700 val scans). Run with
#   nice python tools/study.py \
#       studies/centerpoint-pillar-4x_synthetic-kitti.py
# (resumable: rerun the same command). Not run yet.
task = 'det'
metric = 'BEV mAP'
metrics = ['BEV mAP', '3D mAP']
seeds = [0, 1, 2]
gate_margin = 3.0
jobs = 2

data = dict(
    type='kitti',
    root='data/study_kitti',
    seed=0,
    settings=dict(
        num_train=800,
        num_val=700,
        ped_probs=[0.1, 0.2, 0.25, 0.2, 0.15, 0.1],
        cyc_probs=[0.2, 0.3, 0.3, 0.2]))

schedule = dict(max_epochs=3)
cfg_options = {
    'train_dataloader.num_workers': 1,
    'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False,
    'test_dataloader.num_workers': 0,
    'test_dataloader.persistent_workers': False,
    'default_hooks.logger.interval': 100,
}
bootstrap = dict(num_samples=200, seed=0)

_cp = 'configs/centerpoint/'
rows = [
    dict(name='student 4x', role='student',
         config=_cp + 'centerpoint_pillar016_secfpn-4x_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py'),
    dict(name='+ heatmap and masked feature KD', role='method',
         config='configs/distill/heatmap-kd_centerpoint-pillar016-4x_'
         '1xb2-cpu_synthetic-kitti-3d-3class.py'),
    dict(name='teacher', role='teacher',
         config=_cp + 'centerpoint_pillar016_secfpn_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py',
         schedule=dict(max_epochs=8, val_interval=1)),
]
