"""Data-loading time per sample with and without M2SKD's fusion.

Usage (from the repository root):
    python projects/M2SKD/tools/benchmark_loading.py CONFIG
        [--data-root DIR] [--samples 30] [--repeats 3] [--index-dir NAME]

Builds the config's training data set three (or two) times with different
pipelines and times ``dataset[i]`` (load, fusion, augmentation, packing;
no model), median over ``--samples`` samples x ``--repeats`` passes:

* ``plain``: the config's train pipeline (the student's input only),
* ``fusion``: the same with ``MultiScanHardInstanceFusion`` reading whole
  earlier scans, then ``SplitFusedPoints``,
* ``fusion_index``: the fusion reading the per-frame instance index
  (``--index-dir``, built by ``build_instance_index.py``), when given.

Prints the medians and the ratios to ``plain`` and a JSON line. Runs with
one torch thread, like a DataLoader worker.
"""
import argparse
import copy
import json
import statistics
import time

import distill3d  # noqa: F401  (registrations)
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmdet3d.registry import DATASETS
from distill3d.utils import set_data_root


def fused_pipeline(pipeline: list, fusion: dict) -> list:
    """Insert the fusion after LoadAnnotations3D and the split before
    packing."""
    out = []
    for step in pipeline:
        if step['type'] == 'Pack3DDetInputs':
            out.append(dict(type='SplitFusedPoints'))
        out.append(step)
        if step['type'] == 'LoadAnnotations3D':
            out.append(fusion)
    return out


def time_dataset(cfg: Config, pipeline: list, samples: int,
                 repeats: int) -> list:
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    while 'dataset' in ds_cfg:  # RepeatDataset etc.
        ds_cfg = ds_cfg.dataset
    ds_cfg.pipeline = pipeline
    dataset = DATASETS.build(ds_cfg)
    n = min(samples, len(dataset))
    times = []
    for _ in range(repeats):
        for i in range(n):
            start = time.perf_counter()
            dataset[i]
            times.append(1000 * (time.perf_counter() - start))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--data-root')
    parser.add_argument('--samples', type=int, default=30)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--num-prev', type=int, default=4)
    parser.add_argument('--index-dir')
    args = parser.parse_args()
    torch.set_num_threads(1)  # as in DataLoader worker processes
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    init_default_scope('mmdet3d')
    base = cfg.train_pipeline
    fusion = dict(type='MultiScanHardInstanceFusion', num_prev=args.num_prev)
    runs = dict(
        plain=base,
        fusion=fused_pipeline(base, fusion))
    if args.index_dir:
        runs['fusion_index'] = fused_pipeline(
            base, dict(fusion, index_dir=args.index_dir))
    med = {}
    for name, pipeline in runs.items():
        times = time_dataset(cfg, pipeline, args.samples, args.repeats)
        med[name] = statistics.median(times)
        print(f'{name:13s} median {med[name]:.1f} ms per sample '
              f'(min {min(times):.1f}, max {max(times):.1f}, '
              f'n={len(times)}); x{med[name] / med["plain"]:.2f} of plain')
    print(json.dumps(dict(config=args.config, median_ms=med,
                          num_prev=args.num_prev)))


if __name__ == '__main__':
    main()
