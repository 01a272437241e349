# The ~40x smaller FAD student: PointNet++ SSG with narrow MLPs,
# SA [16, 16, 32] -> SA [32, 32, 64] -> group-all SA [64, 160] -> FC 80 ->
# classes. 36,616 parameters with 40 classes (teacher 1,472,552: 40.2x).
# Same sampling / grouping as the teacher, same data and schedule.
_base_ = ['./pointnet2-ssg_1xb24-200e_modelnet40.py']

model = dict(
    backbone=dict(sa_channels=((16, 16, 32), (32, 32, 64))),
    neck=dict(in_channels=64, mlp_channels=(64, 160)),
    head=dict(in_channels=160, hidden_channels=(80, )))
