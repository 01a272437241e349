# M2SKD (frozen teacher) with the affinity term held off while the student
# is untrained: 0 for the first 2 epochs (80 iterations of this schedule:
# 80 training scans, batch 2), then a linear warm-up to its weight over 2
# more; the logit term runs from the start. On a fresh student the
# affinity's gradient is ~70x larger per voxel (cosine affinities scale as
# 1 / |logits|) and a step on it lowers the true class's probability on
# ~75% of the hard voxels it touches; on a trained student it raises it on
# 57-73% (projects/M2SKD/README.md, phase 2).
_base_ = ['./m2skd_cylinder3d_1xb2-cpu_synthetic-semantickitti.py']
custom_hooks = [
    dict(type='DistillLossWeightHook', terms=['loss_kd_affinity'],
         begin_iter=80, warmup_iters=80)
]
