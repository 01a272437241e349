# PointPillars 4x student on synthetic KITTI: does distillation help, and
# which method? Run with
#   nice python tools/study.py \
#       projects/PointDistiller/studies/pointpillars-4x_synthetic-kitti.py \
#       --out-dir projects/PointDistiller/results
# (resumable: rerun the same command). For real KITTI, set
# data = dict(type='existing', root='data/kitti') and longer schedules.
_base_ = ['../../../studies/_base_/synthetic-kitti_800-700.py']

_pd = 'projects/PointDistiller/configs/'
_cfg = 'configs/distill/'
_suffix = 'pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
# every method is also paired with the positive control, seed by seed
reference = '+ logit KD'
rows = [
    dict(name='student 4x', role='student',
         config=_pd + 'pointpillars_hv-secfpn-4x_1xb2-cpu_synthetic-'
         'kitti-3d-3class.py'),
    dict(name='+ logit KD', role='method',
         config=_cfg + 'logit-kd_' + _suffix),
    dict(name='+ FitNets', role='method', config=_cfg + 'fitnets_' + _suffix),
    dict(name='+ CWD', role='method', config=_cfg + 'cwd_' + _suffix),
    dict(name='+ PointDistiller (paper weights)', role='method',
         config=_pd + 'pointdistiller-paper-weights_' + _suffix),
    dict(name='+ PointDistiller', role='method',
         config=_pd + 'pointdistiller_' + _suffix),
    # both terms at their own weights; paired with logit KD alone
    dict(name='+ PointDistiller + logit KD', role='method',
         config=_pd + 'pointdistiller-logit-kd_' + _suffix),
    dict(name='+ PointDistiller (BEV)', role='method',
         config=_pd + 'pointdistiller-bev_' + _suffix),
    dict(name='+ PointDistiller (BEV, frozen teacher adapter)',
         role='method', config=_pd + 'pointdistiller-bev-frozen_' + _suffix),
    dict(name='+ PointDistiller (BEV, teacher edge features)',
         role='method',
         config=_pd + 'pointdistiller-bev-teacher-edges_' + _suffix),
    dict(name='+ PointDistiller (BEV, teacher-confident nodes)',
         role='method',
         config=_pd + 'pointdistiller-bev-teacher-conf_' + _suffix),
    dict(name='+ FitNets (teacher-confident pixels)', role='method',
         config=_cfg + 'fitnets-masked_' + _suffix),
    # dose-response: the same term at 1/5 of the study's weight (0.06x)
    dict(name='+ FitNets (teacher-confident pixels, lambda 1)',
         role='method', config=_cfg + 'fitnets-masked_' + _suffix,
         cfg_options={'distiller.distill_losses.loss_kd_neck.loss_weight':
                      1.0}),
    dict(name='teacher', role='teacher',
         config='configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_'
         'synthetic-kitti-3d-3class.py',
         schedule=dict(max_epochs=8, val_interval=1)),
]
