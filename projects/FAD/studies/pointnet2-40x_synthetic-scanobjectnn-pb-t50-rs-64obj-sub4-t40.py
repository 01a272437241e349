# The 4-subtype set with a teacher trained to its plateau (40 epochs).
# Why: with the 20-epoch teacher of the sub4 spec (60.51 OA, still rising
# by 1.9 points over its last 4 epochs) logit KD at T=4 costs the student
# accuracy. That teacher fits only 65.7% of its own (augmented) training
# shapes, and at T=4 its softmax is nearly uniform (entropy 2.35 nats of
# at most 2.71, probability of the true class 0.22): the term acts as
# strong label smoothing on a student that already underfits. A teacher
# that knows its training set is the first fix to try (issue 14: "the
# benchmark or the schedule is the problem"). Students keep 20 epochs, as
# in the sub4 spec (their runs are the same settings, so they can be
# reused). Run with
#   OMP_NUM_THREADS=1 nice python tools/study.py projects/FAD/studies/\
#       pointnet2-40x_synthetic-scanobjectnn-pb-t50-rs-64obj-sub4-t40.py \
#       --seeds 0 1 2 3 4 --rows '+ logit KD (T=1)' '+ logit KD' --jobs 2
# (phase 1: the teacher on one core, the five plain students on the other;
# phase 2: the two controls, seed by seed).
# This is the study of issue 14 (projects/FAD/results/study.md): the FAD
# rows were added the same way (--rows '<row>'), and the report is
#   python tools/study.py <this spec> --report-only --seeds 0 1 2 3 4 \
#       --rows '+ logit KD' '+ logit KD (T=1)' '+ FAD (v1 defaults)' \
#       '+ FAD (standardised, R1, lambda 10)' \
#       '+ FAD (standardised, R1, lambda 10, class-conditional)' \
#       '+ FAD (standardised, R1, lambda 10) + logit KD (T=1)' \
#       '+ FAD (standardised, R1, lambda 10, class-conditional) '\
#       '+ logit KD (T=1)' \
#       --out-dir projects/FAD/results
_base_ = ['./pointnet2-40x_synthetic-scanobjectnn-pb-t50-rs-64obj-sub4.py']
row_schedules = {'teacher': dict(max_epochs=40, val_interval=4)}
# the positive control that helps on this set: every FAD row is also
# paired with it (the target: "at least as good as logit KD")
reference = '+ logit KD (T=1)'
