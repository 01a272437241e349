# ModelNet40 classification, `modelnet40_normal_resampled` layout
# (<class>/<class>_NNNN.txt with x,y,z,nx,ny,nz lines, shape names and
# train/test split files). data_root points at the synthetic set of
# `python tools/create_synthetic_data.py modelnet40`; for the real data set
# point it (or --data-root) at your modelnet40_normal_resampled/ folder.
# Pipeline as PointNet++ with normals: the first 1024 points of each file,
# unit-sphere normalisation, random anisotropic scale and shift for training.
dataset_type = 'ModelNet40Dataset'
data_root = 'data/synthetic_modelnet40/'
num_points = 1024

train_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=6),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(
        type='ClsRandomScaleTranslate',
        scale_range=(0.8, 1.25),
        translate=0.1,
        with_normals=True),
    dict(type='PackPointClsInputs')
]
test_pipeline = [
    dict(type='LoadPointsFromTxt', use_dim=6),
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]

train_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='modelnet40_train.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='modelnet40_test.txt',
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClsMetric')
test_evaluator = val_evaluator
