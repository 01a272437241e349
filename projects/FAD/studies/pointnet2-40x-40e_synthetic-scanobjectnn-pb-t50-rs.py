# The same study with students trained 40 epochs instead of 20 (the
# teacher's length): on 20 epochs logit KD gave +0.42 [-2.3, +3.2] at T=4
# (3 seeds) and +0.26 [-0.6, +1.1] at T=1 (5 seeds), with a student that
# underfits (train-batch accuracy 67%). Seed-0 pilot: the plain student
# reaches 79.24 at 40 epochs (74.35 at 20), the teacher gap falls to 4.68
# and the gate (8) fails; logit KD T=1 78.88 (-0.36). Run it in its own
# work dir, with
# the first study's teacher copied in (same settings: reused, not
# retrained):
#   mkdir -p work_dirs/studies/pointnet2-40x-40e_synthetic-scanobjectnn-\
#       pb-t50-rs/runs
#   cp -a work_dirs/studies/pointnet2-40x_synthetic-scanobjectnn-pb-t50-rs/\
#       runs/teacher work_dirs/studies/pointnet2-40x-40e_synthetic-\
#       scanobjectnn-pb-t50-rs/runs/
#   nice python tools/study.py --rows '+ logit KD (T=1)' \
#       projects/FAD/studies/pointnet2-40x-40e_synthetic-scanobjectnn-pb-t50-rs.py
_base_ = ['./pointnet2-40x_synthetic-scanobjectnn-pb-t50-rs.py']
schedule = dict(max_epochs=40)
