# The 40x student (36,616 parameters) on the synthetic ModelNet40, CPU
# sizing of the teacher's CPU config (same points, centres, schedule).
_base_ = ['./pointnet2-ssg_1xb16-cpu_synthetic-modelnet40.py']

model = dict(
    backbone=dict(sa_channels=((16, 16, 32), (32, 32, 64))),
    neck=dict(in_channels=64, mlp_channels=(64, 160)),
    head=dict(in_channels=160, hidden_channels=(80, )))
