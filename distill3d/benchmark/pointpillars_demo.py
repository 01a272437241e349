# Copyright (c) distill3d contributors. All rights reserved.
"""The PointPillars 4x distillation runs of the demo and the seed study.

Teacher, 4x student, student + PointDistiller and student + FitNets on
synthetic KITTI data: the configs, the shared command-line options and one
seed's data generation, training and benchmark.
"""
import argparse
import os.path as osp

from .evaluate import ModelSpec
from .pipeline import run_benchmark
from .runs import (format_command, log, prepare_kitti_data, schedule_options,
                   train_command, train_model)

TEACHER = 'configs/pointpillars/' \
    'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'
PD = 'projects/PointDistiller/configs/'
STUDENT = PD + \
    'pointpillars_hv-secfpn-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
DISTILL = PD + \
    'pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
FITNETS = 'configs/distill/' \
    'fitnets_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
# row name -> (work-dir name, training config)
RUNS = {
    'teacher': ('teacher', TEACHER),
    'student 4x': ('student', STUDENT),
    'student 4x + PointDistiller': ('pointdistiller', DISTILL),
    'student 4x + FitNets': ('fitnets', FITNETS),
}
DEMO_ROWS = ('teacher', 'student 4x', 'student 4x + PointDistiller')


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """Data and schedule options shared with the seed study."""
    parser.add_argument('--num-train', type=int, default=120)
    parser.add_argument('--num-val', type=int, default=30)
    parser.add_argument('--teacher-epochs', type=int, default=6)
    parser.add_argument('--student-epochs', type=int, default=6)
    parser.add_argument(
        '--cost-steps',
        type=int,
        default=3,
        help='timed steps of the distillation overhead benchmark (0: skip)')
    parser.add_argument('--latency-frames', type=int, default=10)
    parser.add_argument(
        '--force', action='store_true', help='regenerate and retrain')


def run_seed(args: argparse.Namespace, rows, out_dir: str, data_root: str,
             seed: int, title: str) -> dict:
    """Data, training and benchmark of ``rows`` for one seed."""
    prepare_kitti_data(data_root, seed, args.num_train, args.num_val,
                       args.force)
    ckpts, commands = {}, []
    for name in rows:
        sub, config = RUNS[name]
        epochs = args.teacher_epochs if name == 'teacher' \
            else args.student_epochs
        options = schedule_options(epochs, seed)
        if config in (DISTILL, FITNETS):
            options.append(f'teacher_ckpt={ckpts["teacher"]}')
        work_dir = osp.join(out_dir, sub)
        ckpts[name] = train_model(name, config, work_dir, data_root,
                                  options, args.force)
        commands.append(
            format_command(
                train_command(config, work_dir, data_root, options)))
    log('evaluating with KittiMetric and measuring cost')
    return run_benchmark(
        [ModelSpec(n, RUNS[n][1], ckpts[n]) for n in rows],
        'det',
        out_dir,
        title,
        data_root=data_root,
        distill_config=DISTILL,
        teacher_ckpt=ckpts['teacher'],
        cost_steps=args.cost_steps,
        latency_frames=args.latency_frames,
        commands=commands,
        notes=[
            f'Data: {args.num_train} train / {args.num_val} val synthetic '
            f'frames (seed {seed}); teacher {args.teacher_epochs} epochs, '
            f'students {args.student_epochs} epochs, batch 2, CPU; training '
            f'seed {seed}.'
        ])
