"""Synthetic-KITTI seed study: student, +FitNets, +PointDistiller, teacher.

Usage (from the repository root):
    python projects/PointDistiller/tools/seed_study.py [--seeds 0 1 2]
        [--out-dir work_dirs/pd_study] [--teacher-epochs 6]
        [--student-epochs 6] [--num-train 120] [--num-val 30]

For each seed s the synthetic KITTI data is generated with seed s (seed 0
in ``data/synthetic_kitti``, the demo's data, others in
``data/synthetic_kitti_seed<s>``), the PointPillars teacher, the 4x student
alone, with FitNets and with PointDistiller are trained with training seed
s (exactly the demo's runs, so ``tools/demo.py --out-dir
<out-dir>/seed0`` and this study share seed 0), and all four are
evaluated with mmdet3d's KittiMetric (``distill3d.benchmark``). Finished
runs are reused.

Written to ``--out-dir``: ``seed<s>/`` (each seed's table, JSON and
pictures) and ``study.md`` / ``study.json``: mean, sample standard
deviation, min and max over the seeds of every metric, and the per-seed
values.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List

import distill3d  # noqa: F401  (CPU support, safe globals, registries)

from distill3d.benchmark.pointpillars_demo import add_run_args, run_seed
from distill3d.benchmark.runs import REPO, log

ROWS = ('student 4x', 'student 4x + FitNets', 'student 4x + PointDistiller',
        'teacher')
# teacher first: the students need its checkpoint
TRAIN_ORDER = ('teacher', 'student 4x', 'student 4x + FitNets',
               'student 4x + PointDistiller')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--out-dir', default='work_dirs/pd_study')
    add_run_args(parser)
    return parser.parse_args()


def data_root(seed: int) -> str:
    """The data root of a seed (seed 0 is the demo's)."""
    return 'data/synthetic_kitti' if seed == 0 \
        else f'data/synthetic_kitti_seed{seed}'


def aggregate(results: Dict[int, dict]) -> dict:
    """Mean / std / min / max over seeds of every row and metric."""
    seeds = sorted(results)
    rows: Dict[str, dict] = {}
    for name in ROWS:
        per_seed = {
            s: next(m for m in results[s]['models'] if m['name'] == name)
            for s in seeds
        }
        metrics: Dict[str, dict] = {}
        for key in per_seed[seeds[0]]['metrics']:
            vals = [per_seed[s]['metrics'][key] for s in seeds]
            metrics[key] = dict(
                mean=statistics.fmean(vals),
                std=statistics.stdev(vals) if len(vals) > 1 else 0.0,
                min=min(vals),
                max=max(vals),
                values=vals)
        rows[name] = dict(params=per_seed[seeds[0]]['params'],
                          metrics=metrics)
    return dict(seeds=seeds, rows=rows)


def markdown(study: dict, keys: List[str], args: argparse.Namespace) -> str:
    """The study table: mean ± std (min-max) per row and metric."""
    head = ['model', 'params (M)'] + keys
    lines = [
        f'# PointPillars 4x distillation on synthetic KITTI, seeds '
        f'{study["seeds"]}', '',
        '| ' + ' | '.join(head) + ' |',
        '| ' + ' | '.join(['---'] + ['---:'] * (len(head) - 1)) + ' |'
    ]
    for name, row in study['rows'].items():
        cells = [name, f'{row["params"] / 1e6:.2f}']
        for key in keys:
            m = row['metrics'][key]
            cells.append(f'{m["mean"]:.1f} ± {m["std"]:.1f} '
                         f'({m["min"]:.1f}-{m["max"]:.1f})')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += [
        '', 'KittiMetric AP40, moderate, strict IoU, percent; mean ± sample '
        'std (min-max) over the seeds. Each seed: its own generated data '
        f'({args.num_train} train / {args.num_val} val frames) and training '
        f'seed; teacher {args.teacher_epochs} epochs, students '
        f'{args.student_epochs} epochs, batch 2, CPU.', '', 'Per seed:', ''
    ]
    for name, row in study['rows'].items():
        vals = ', '.join(
            f'{key} ' + ' / '.join(f'{v:.1f}'
                                   for v in row['metrics'][key]['values'])
            for key in keys[:2])
        lines.append(f'- {name}: {vals}')
    lines += [
        '', 'Command:', '', '```',
        'python ' + ' '.join(sys.argv), '```', ''
    ]
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    start = time.time()
    os.chdir(REPO)
    results = {}
    cost_steps = args.cost_steps
    for seed in args.seeds:
        log(f'seed {seed}')
        out = osp.join(args.out_dir, f'seed{seed}')
        results[seed] = run_seed(
            args, TRAIN_ORDER, out, data_root(seed), seed,
            f'PointPillars 4x distillation (synthetic KITTI, seed {seed})')
        args.cost_steps = 0  # the step cost does not depend on the seed
    args.cost_steps = cost_steps
    study = aggregate(results)
    keys = list(results[args.seeds[0]]['models'][0]['metrics'])
    with open(osp.join(args.out_dir, 'study.json'), 'w') as f:
        json.dump(study, f, indent=2)
    text = markdown(study, keys, args)
    with open(osp.join(args.out_dir, 'study.md'), 'w') as f:
        f.write(text)
    print(text)
    log(f'study done in {time.time() - start:.0f} s')


if __name__ == '__main__':
    main()
