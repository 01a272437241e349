# Loading of M2SKD's multi-scan teacher input: the scan plus the hard-class
# instances of the 4 earlier scans, one point cloud (no split).
multiscan_load_pipeline = [
    dict(type='LoadPointsFromFile', coord_type='LIDAR', load_dim=4,
         use_dim=4),
    dict(type='LoadAnnotations3D', with_bbox_3d=False, with_label_3d=False,
         with_seg_3d=True, seg_3d_dtype='np.int32', seg_offset=2**16,
         dataset_type='semantickitti'),
    dict(type='MultiScanHardInstanceFusion', num_prev=4, align='centroid',
         mark_fused=False),
    dict(type='PointSegClassMapping'),
]
# Training pipeline of the multi-scan teacher.
multiscan_train_pipeline = multiscan_load_pipeline + [
    dict(type='RandomFlip3D', sync_2d=False, flip_ratio_bev_horizontal=0.5,
         flip_ratio_bev_vertical=0.5),
    dict(type='GlobalRotScaleTrans', rot_range=[-0.78539816, 0.78539816],
         scale_ratio_range=[0.95, 1.05], translation_std=[0.1, 0.1, 0.1]),
    dict(type='Pack3DDetInputs', keys=['points', 'pts_semantic_mask'])
]

# Validation / test of the multi-scan teacher on its own input (the scan
# plus the fused instances), scored on the scan's points only
# (ScanPointsSegMetric crops to num_scan_points): the gate of the M2SKD
# study compares it with the single-scan baseline on the same points.
multiscan_test_pipeline = multiscan_load_pipeline + [
    dict(type='Pack3DDetInputs', keys=['points', 'pts_semantic_mask'],
         meta_keys=('lidar_path', 'num_pts_feats', 'sample_idx',
                    'num_scan_points'))
]
