"""The main job: distil a 4x PointPillars student on synthetic KITTI data,
from a teacher that has something to teach.

Usage:
    python tools/demo.py [--out-dir work_dirs/demo] [--force]
        [--data-root data/synthetic_kitti_demo] [--seed 0]
        [--num-train 300] [--num-val 100]
        [--teacher-epochs 4] [--student-epochs 1] [--gate-margin 3]

Steps (each shows its progress; a step whose outputs exist with the same
settings is reused, ``--force`` redoes everything):

1. generate the synthetic KITTI data unless ``--data-root`` already holds
   the same data,
2. train the PointPillars teacher (mmdet3d's KITTI 3-class model with the
   CPU sizing of ``configs/pointpillars/``) for ``--teacher-epochs``,
   validating every epoch,
3. train the 4x student alone and with PointDistiller (teacher from 2,
   the default reweighting) for ``--student-epochs``,
4. evaluate the three with mmdet3d's KittiMetric plus a bootstrap over
   the validation frames, check the **teacher gate** (teacher - plain
   student >= ``--gate-margin`` BEV mAP) and the paired gain of
   PointDistiller (same seed, with its evaluation noise): ``study.md``,
   ``study.json``, ``study.png`` (:mod:`distill3d.benchmark.study`),
5. measure params, GMACs, CPU latency per frame and the distillation step
   overhead (a model's row is reused while its checkpoint, config and
   data are unchanged) and draw the pictures: ``results.md``,
   ``results.json``, ``map_bar.png`` and ``bev.png`` (the validation
   frame where the teacher finds the most cars; ground truth, the three
   models' boxes and the pillars PointDistiller weighs most).

Training runs ``tools/train.py`` in a subprocess; its full log goes to
``OUT_DIR/runs/<model>/.../study_train.log``. ``--seed`` seeds both the
data and the training. The steps are those of ``tools/study.py`` with the
spec the demo writes to ``OUT_DIR/demo_study.py``.
"""
import argparse
import os
import shlex
import sys
import time
import warnings

import distill3d  # noqa: F401  (CPU support, safe globals, registries)

from distill3d.benchmark.pointpillars_demo import (add_run_args, run_demo,
                                                   summary_lines)
from distill3d.benchmark.study_runs import REPO, log
from distill3d.utils import freeze_startup_objects


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='work_dirs/demo')
    parser.add_argument('--data-root', default='data/synthetic_kitti_demo')
    parser.add_argument('--seed', type=int, default=0)
    add_run_args(parser)
    return parser.parse_args()


def main() -> None:
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    args = parse_args()
    start = time.time()
    os.chdir(REPO)
    command = ' '.join(shlex.quote(a) for a in ['python'] + sys.argv)
    out = run_demo(args, args.out_dir, args.data_root, args.seed, command)
    with open(os.path.join(args.out_dir, 'results.md')) as f:
        print(f.read())
    for line in summary_lines(out['study']):
        print(line)
    log(f'done in {time.time() - start:.0f} s; outputs in {args.out_dir}')


if __name__ == '__main__':
    main()
