# M2SKD with feature KD switched on (off by default, as in the released
# code, where its weight is 0): MSE between the student's and the frozen
# multi-scan teacher's second up block (upBlock2) at the voxels both share,
# through a 1x1 adapter, weight 1.
_base_ = ['./m2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py']
distiller = dict(
    distill_losses=dict(loss_kd_feature={{_base_.m2skd_loss_kd_feature}}))
