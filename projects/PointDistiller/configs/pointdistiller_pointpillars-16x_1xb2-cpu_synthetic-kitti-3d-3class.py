_base_ = [
    './pointpillars_hv-secfpn-16x_1xb2-cpu_synthetic-kitti-3d-3class.py',
    '../../../configs/_base_/distill/pointdistiller_pillars.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointpillars/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'  # noqa: E501
teacher_ckpt = 'work_dirs/pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class/epoch_20.pth'  # noqa: E501
# CPU sizing of the graph: ~2.5-3.5k pillars per synthetic scan
distiller = dict(
    distill_losses=dict(loss_kd_pointdistiller=dict(num_nodes=1024, k=16)))
