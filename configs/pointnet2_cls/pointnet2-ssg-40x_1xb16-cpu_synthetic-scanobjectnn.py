# The 40x student on the synthetic ScanObjectNN (xyz only, 15 classes):
# 34,543 parameters (teacher 1,465,935: 42.4x).
_base_ = ['./pointnet2-ssg_1xb16-cpu_synthetic-scanobjectnn.py']

model = dict(
    backbone=dict(sa_channels=((16, 16, 32), (32, 32, 64))),
    neck=dict(in_channels=64, mlp_channels=(64, 160)),
    head=dict(in_channels=160, hidden_channels=(80, )))
