# M2SKD in the released code's shared-weight mode, CPU-sized: one network,
# two forwards per step (scan + fused instances as the teacher, supervised
# as released: cross-entropy only on the voxels whose fused label differs
# from the single-scan label, weight 0.2; the scan alone as the student),
# the KD terms pull the single-scan outputs toward the (detached)
# multi-scan ones. No teacher checkpoint.
_base_ = ['./m2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py']
teacher_cfg = None
teacher_ckpt = None
distiller = dict(
    teacher_mode='shared',
    teacher_loss_weight=0.2,
    teacher_supervision='changed')
