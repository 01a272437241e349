# DGCNN classifier (Wang et al., 2019) from mmdet3d's DGCNNBackbone on
# ModelNet40 (1024 points, xyz only as in the paper; mmdet3d's first
# EdgeConv takes the neighbours in the space of the LAST 3 input channels):
# EdgeConv 64 -> 64 -> 128 -> 256 (k = 20, then in feature space), 1x1 conv
# to 1024; mmdet3d's DGCNNFAModule concatenates that with the EdgeConv
# outputs (1536 channels per point), max + avg pooling (3072), FC 512 ->
# FC 256 -> classes. 2,333,608 parameters with 40 classes. Another FAD
# teacher option (record `neck` for the global feature).
_base_ = ['../pointnet2_cls/pointnet2-ssg_1xb24-200e_modelnet40.py']

model = dict(
    backbone=dict(
        _delete_=True,
        type='DGCNNBackbone',
        in_channels=3,
        num_samples=(20, 20, 20, 20),
        knn_modes=('D-KNN', 'F-KNN', 'F-KNN', 'F-KNN'),
        radius=(None, None, None, None),
        gf_channels=((64, ), (64, ), (128, ), (256, )),
        fa_channels=(1024, ),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.2)),
    neck=dict(
        _delete_=True,
        type='GlobalPoolNeck',
        in_channels=1536,
        in_key='fa_points',
        pool='max_avg'),
    head=dict(in_channels=3072))

num_points = 1024
train_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=3),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='ClsRandomScaleTranslate', scale_range=(2 / 3, 3 / 2),
         translate=0.2),
    dict(type='PackPointClsInputs')
]
test_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=3),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
