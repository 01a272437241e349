"""Benchmark trained teacher / student / distilled models in one table.

Usage:
    python tools/benchmark.py --model NAME CONFIG CHECKPOINT
        [--model NAME WORK_DIR ...] [--out-dir DIR] [--task det|seg]
        [--data-root DIR] [--distill-config CFG] [--teacher-ckpt CKPT]
        [--cost-steps 3] [--latency-frames 10] [--frame 0] [--title TEXT]

Each ``--model`` is a row: its name, and either its training config and
checkpoint or a work dir of ``tools/train.py`` (the config dumped there and
the checkpoint named by ``last_checkpoint``). A distillation config's
student is evaluated (exported without teacher and adapters first).

For every model: parameters, GMACs of one predict step, CPU (or GPU)
latency per frame, and the config's own mmdet3d metric (KittiMetric: BEV /
3D AP40 per class and mAP; SegMetric: mIoU and per-class IoU). The first
distillation config (or ``--distill-config``) also gets the training-step
overhead and peak-memory ratios of ``tools/benchmark_distill.py``.

Written to ``--out-dir``: ``results.md`` (table), ``results.json``,
``map_bar.png`` (headline metrics per model) and ``bev.png`` (one
validation frame from above: ground truth and every model's boxes, plus
the pillars PointDistiller weights most; labels per model for
segmentation).
"""
import argparse
import glob
import os.path as osp
import shlex
import sys

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
from mmengine.config import Config

from distill3d.benchmark import ModelSpec, run_benchmark
from distill3d.utils import freeze_startup_objects


def resolve(name: str, paths: list) -> ModelSpec:
    """A ``--model`` argument as a :class:`ModelSpec`."""
    if len(paths) == 2:
        return ModelSpec(name, paths[0], paths[1])
    if len(paths) != 1 or not osp.isdir(paths[0]):
        raise SystemExit(f'--model {name}: give CONFIG CHECKPOINT or a '
                         f'work dir, got {paths}')
    work_dir = paths[0]
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise SystemExit(f'--model {name}: {work_dir} has no last_checkpoint')
    with open(last) as f:
        ckpt = f.read().strip()
    configs = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(configs) != 1:
        raise SystemExit(f'--model {name}: expected one dumped config in '
                         f'{work_dir}, found {configs}')
    return ModelSpec(name, configs[0], ckpt)


def infer_task(config: str) -> str:
    """'det' for KittiMetric-like evaluators, 'seg' for SegMetric."""
    evaluator = Config.fromfile(config).test_evaluator
    kind = evaluator.get('type', '') if isinstance(evaluator, dict) else ''
    return 'seg' if 'Seg' in kind else 'det'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--model',
        nargs='+',
        action='append',
        required=True,
        metavar='NAME PATH',
        help='NAME CONFIG CHECKPOINT or NAME WORK_DIR (repeat, in order)')
    parser.add_argument('--out-dir', default='work_dirs/benchmark_report')
    parser.add_argument('--task', choices=['det', 'seg'])
    parser.add_argument('--data-root', help='point every config here')
    parser.add_argument('--distill-config')
    parser.add_argument('--teacher-ckpt')
    parser.add_argument('--cost-steps', type=int, default=3)
    parser.add_argument('--latency-frames', type=int, default=10)
    parser.add_argument('--frame', type=int, default=0)
    parser.add_argument('--title')
    args = parser.parse_args()
    for item in args.model:
        if len(item) < 2:
            parser.error(f'--model {item}: NAME and a path are needed')
    return args


def main() -> None:
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    args = parse_args()
    models = [resolve(item[0], item[1:]) for item in args.model]
    task = args.task or infer_task(models[0].config)
    title = args.title or ' vs '.join(m.name for m in models)
    command = ' '.join(shlex.quote(a) for a in [sys.executable] + sys.argv)
    result = run_benchmark(
        models,
        task,
        args.out_dir,
        title,
        data_root=args.data_root,
        distill_config=args.distill_config,
        teacher_ckpt=args.teacher_ckpt,
        cost_steps=args.cost_steps,
        latency_frames=args.latency_frames,
        frame_index=args.frame,
        commands=[command])
    with open(result['files']['markdown']) as f:
        print(f.read())


if __name__ == '__main__':
    main()
