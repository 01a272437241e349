# ScanObjectNN classification (the released h5_files: main_split/...h5,
# data (N, 2048, 3), label (N, )). `variant` picks the files: OBJ_ONLY,
# OBJ_BG or PB_T50_RS. data_root points at the synthetic set of
# `python tools/create_synthetic_data.py scanobjectnn`; for the real data
# point it at the folder holding main_split/ (and main_split_nobg/).
# Pipeline: 1024 of the 2048 points (random for training, the first for
# testing), unit-sphere normalisation, random scale / shift and rotation
# about the up axis for training.
dataset_type = 'ScanObjectNNDataset'
data_root = 'data/synthetic_scanobjectnn/'
variant = 'OBJ_BG'
num_points = 1024

train_pipeline = [
    dict(type='ClsPointSample', num_points=num_points, method='random'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='ClsRandomScaleTranslate', scale_range=(0.8, 1.25),
         translate=0.1),
    dict(type='ClsRandomRotate', angle_range=(-3.1416, 3.1416), axis=2),
    dict(type='PackPointClsInputs')
]
test_pipeline = [
    dict(type='ClsPointSample', num_points=num_points, method='first'),
    dict(type='ClsNormalizeUnitSphere'),
    dict(type='PackPointClsInputs')
]

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        variant=variant,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        variant=variant,
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='ClsMetric')
test_evaluator = val_evaluator
