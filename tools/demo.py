"""The main job: distil a 4x PointPillars student on synthetic KITTI data.

Usage:
    python tools/demo.py [--out-dir work_dirs/demo] [--force]
        [--data-root data/synthetic_kitti] [--seed 0]
        [--teacher-epochs 6] [--student-epochs 6]

Steps (each shows its progress; a step whose outputs exist with the same
settings is reused, ``--force`` redoes everything):

1. generate the synthetic KITTI data (``tools/create_synthetic_data.py``'s
   generator) unless ``--data-root`` already holds the same data,
2. train the PointPillars teacher (mmdet3d's KITTI 3-class model with the
   CPU sizing of ``configs/pointpillars/``),
3. train the 4x student alone and with PointDistiller (teacher from 2),
4. evaluate the three with mmdet3d's KittiMetric and measure params,
   GMACs, CPU latency per frame and the distillation step overhead
   (``distill3d.benchmark``), then write to ``--out-dir``: ``results.md``,
   ``results.json``, ``map_bar.png`` and ``bev.png``.

Training runs ``tools/train.py`` in a subprocess; its full log goes to
``OUT_DIR/<model>/train.log``. ``--seed`` seeds both the data and the
training.
"""
import argparse
import os
import os.path as osp
import time

import distill3d  # noqa: F401  (CPU support, safe globals, registries)

from distill3d.benchmark.pointpillars_demo import (DEMO_ROWS, add_run_args,
                                                   run_seed)
from distill3d.benchmark.runs import REPO, log


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_kitti')
    parser.add_argument('--seed', type=int, default=0)
    add_run_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.time()
    os.chdir(REPO)
    run_seed(
        args, DEMO_ROWS, args.out_dir, args.data_root, args.seed,
        'PointPillars teacher vs 4x student vs 4x student + PointDistiller '
        f'(synthetic KITTI, seed {args.seed})')
    with open(osp.join(args.out_dir, 'results.md')) as f:
        print(f.read())
    log(f'done in {time.time() - start:.0f} s; outputs in {args.out_dir}')


if __name__ == '__main__':
    main()
