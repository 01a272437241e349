"""What M2SKD's fusion adds: hard-class voxels the single scan lacks.

Usage (from the repository root):
    python projects/M2SKD/tools/fusion_stats.py CONFIG [--data-root DIR]
        [--split val] [--max-scans N] [--out FILE.json]

``CONFIG`` is a multi-scan teacher config (its test pipeline fuses the
hard-class instances of earlier scans into the scan, the scan's points
first, and records ``num_scan_points``). For every scan of the split the
tool voxelises the scan and the fused input with the model's own data
preprocessor grid (Cylinder3D's cylindrical voxels) and counts the voxels
that hold a point of a hard class (M2SKD's seven). The number the M2SKD
issue asks for is ``added_fraction``: of the fused input's hard-class
voxels, the share that the single scan does not fill, i.e. what the
teacher sees and the student cannot. Also printed: hard-class instances
per class and sequence, and hard-class points per scan.
"""
import argparse
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

import distill3d  # noqa: F401  (registrations)
from mmdet3d.registry import DATASETS, MODELS
from distill3d.evaluation.summary import HARD_SEG_CLASSES
from distill3d.utils import set_data_root


def voxel_keys(points: np.ndarray, preprocessor) -> np.ndarray:
    """One int64 key per point: its voxel in the preprocessor's grid.

    The coordinates are computed as mmdet3d's ``Det3DDataPreprocessor``
    computes them (float32; polar for ``voxel_type='cylindrical'``), so
    two points share a key exactly when they share a voxel there.

    Args:
        points (np.ndarray): (N, >=3) points, x y z first.
        preprocessor: mmdet3d's ``Det3DDataPreprocessor`` with a
            ``voxel_layer`` (``point_cloud_range``, ``voxel_size``).

    Returns:
        np.ndarray: (N, ) voxel keys.
    """
    layer = preprocessor.voxel_layer
    xyz = torch.as_tensor(points[:, :3], dtype=torch.float32)
    if getattr(preprocessor, 'voxel_type', 'hard') == 'cylindrical':
        xyz = torch.stack((torch.sqrt(xyz[:, 0]**2 + xyz[:, 1]**2),
                           torch.atan2(xyz[:, 1], xyz[:, 0]), xyz[:, 2]), -1)
    low = xyz.new_tensor(layer.point_cloud_range[:3])
    high = xyz.new_tensor(layer.point_cloud_range[3:])
    coors = torch.floor((torch.clamp(xyz, low, high) - low) /
                        xyz.new_tensor(layer.voxel_size)).long().numpy()
    coors -= coors.min(0) if len(coors) else 0
    dims = coors.max(0) + 1 if len(coors) else np.ones(3, np.int64)
    return (coors[:, 0] * dims[1] + coors[:, 1]) * dims[2] + coors[:, 2]


def fusion_stats(cfg: Config,
                 split: str = 'val',
                 max_scans: Optional[int] = None) -> Dict[str, object]:
    """Hard-class voxels of the fused input that the scan lacks.

    Args:
        cfg (Config): A multi-scan teacher config: its
            ``multiscan_test_pipeline`` (or else its test pipeline) fuses
            and packs ``num_scan_points``.
        split (str): 'val' (the test loader's data set) or 'train' (the
            training data set with the test pipeline). Defaults to 'val'.
        max_scans (int, optional): Only the first scans.

    Returns:
        dict: ``scans``, ``added_fraction`` (over all hard voxels of the
        split), ``per_class`` (class -> voxels in the scan / fused,
        added fraction), ``instances_per_sequence`` (class -> mean
        instances of a sequence), ``hard_points_per_scan``.
    """
    init_default_scope('mmdet3d')
    loader = cfg.test_dataloader if split == 'val' else cfg.train_dataloader
    ds_cfg = loader.dataset.copy()
    while 'dataset' in ds_cfg:  # RepeatDataset etc.
        ds_cfg = ds_cfg.dataset
    # the multi-scan configs define ``multiscan_test_pipeline`` (fusion,
    # scan points first, ``num_scan_points`` packed); the teacher's own
    # test loader may still test on single scans
    ds_cfg.pipeline = cfg.get('multiscan_test_pipeline',
                              cfg.test_dataloader.dataset.pipeline)
    dataset = DATASETS.build(ds_cfg)
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    classes = list(dataset.metainfo['classes'])
    hard = {c: i for i, c in enumerate(classes) if c in HARD_SEG_CLASSES}
    if not hard:
        raise ValueError(f'{split} data set has none of the hard classes '
                         f'{HARD_SEG_CLASSES}: {classes}')
    n = len(dataset) if max_scans is None else min(max_scans, len(dataset))
    scan_vox: Dict[str, int] = defaultdict(int)
    fused_vox: Dict[str, int] = defaultdict(int)
    instances: Dict[str, set] = defaultdict(set)
    hard_points: List[int] = []
    for i in range(n):
        item = dataset[i]
        sample = item['data_samples']
        points = item['inputs']['points'].numpy()
        labels = sample.gt_pts_seg.pts_semantic_mask
        labels = np.asarray(labels.numpy() if torch.is_tensor(labels) else
                            labels)
        if 'num_scan_points' not in sample.metainfo:
            raise KeyError(
                f'{split} sample {i}: no num_scan_points in the packed meta; '
                'the config must fuse in its test pipeline (a multi-scan '
                'teacher config)')
        num_scan = int(sample.metainfo['num_scan_points'])
        keys = voxel_keys(points, preprocessor)
        info = dataset.get_data_info(i)
        seq = osp.normpath(info['lidar_points']['lidar_path']).split(
            osp.sep)[-3]
        raw = np.fromfile(info['pts_semantic_mask_path'], dtype=np.uint32)
        if len(raw) != num_scan:
            raise ValueError(
                f'{info["pts_semantic_mask_path"]}: {len(raw)} labels for '
                f'{num_scan} scan points; the pipeline must keep the '
                'scan\'s points in file order (no sampling before fusion)')
        inst = raw >> 16
        sem_scan = labels[:num_scan]
        hard_points.append(int(np.isin(sem_scan, list(hard.values())).sum()))
        for name, idx in hard.items():
            in_scan = set(keys[:num_scan][sem_scan == idx].tolist())
            in_fused = set(keys[labels == idx].tolist())
            scan_vox[name] += len(in_scan)
            fused_vox[name] += len(in_fused | in_scan)
            ids = inst[:num_scan][(sem_scan == idx) & (inst[:num_scan] > 0)]
            instances[name].update((seq, int(k)) for k in ids.tolist())
    total_scan, total_fused = sum(scan_vox.values()), sum(fused_vox.values())
    seqs = {s for ids in instances.values() for s, _ in ids} or {None}
    per_class = {
        name: dict(
            scan_voxels=scan_vox[name],
            fused_voxels=fused_vox[name],
            added_fraction=(1 - scan_vox[name] / fused_vox[name])
            if fused_vox[name] else None)
        for name in hard
    }
    return dict(
        split=split,
        scans=n,
        hard_voxels_scan=total_scan,
        hard_voxels_fused=total_fused,
        added_fraction=(1 - total_scan / total_fused) if total_fused else
        None,
        per_class=per_class,
        instances_per_sequence={
            name: len(instances[name]) / len(seqs)
            for name in hard
        },
        hard_points_per_scan=float(np.mean(hard_points)) if hard_points else
        0.)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='multi-scan teacher config')
    parser.add_argument('--data-root', help='override data_root')
    parser.add_argument('--split', default='val', choices=['val', 'train'])
    parser.add_argument('--max-scans', type=int)
    parser.add_argument('--out', help='write the statistics as JSON')
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    stats = fusion_stats(cfg, args.split, args.max_scans)
    print(f'{stats["scans"]} {args.split} scans: '
          f'{stats["hard_voxels_fused"]} hard-class voxels in the fused '
          f'inputs, {stats["hard_voxels_scan"]} in the scans: fusion adds '
          f'{100 * (stats["added_fraction"] or 0):.1f}%')
    print(f'hard-class points per scan: {stats["hard_points_per_scan"]:.0f}')
    print('| class | instances / sequence | voxels (scan) | voxels (fused) '
          '| added |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for name, row in stats['per_class'].items():
        frac = row['added_fraction']
        print(f'| {name} | {stats["instances_per_sequence"][name]:.1f} | '
              f'{row["scan_voxels"]} | {row["fused_voxels"]} | '
              f'{"n/a" if frac is None else f"{100 * frac:.1f}%"} |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(stats, f, indent=1)


if __name__ == '__main__':
    main()
