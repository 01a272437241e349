# Copyright (c) distill3d contributors. All rights reserved.
"""The demo: a gated PointPillars teacher, the 4x student alone and with
PointDistiller, on synthetic KITTI data, as a one-seed study.

The demo writes a study spec (``demo_study.py`` in its output folder) and
runs it with :func:`~distill3d.benchmark.study.run_study`: the teacher is
trained longer than the students and must beat the plain student by the
gate margin; the paired gain of PointDistiller over the plain student of
the same seed comes with its evaluation noise (a paired bootstrap over the
validation frames). Then :func:`~distill3d.benchmark.pipeline.run_benchmark`
adds parameters, GMACs, CPU latency, the distillation step overhead and
the pictures (the BEV frame is the validation frame where the teacher
finds the most cars).
"""
import argparse
import os
import os.path as osp
from typing import Dict, List

from .evaluate import ModelSpec
from .pipeline import run_benchmark
from .study import run_study
from .study_runs import log

TEACHER = 'configs/pointpillars/' \
    'pointpillars_hv-secfpn_1xb2-cpu_synthetic-kitti-3d-3class.py'
PD = 'projects/PointDistiller/configs/'
STUDENT = PD + \
    'pointpillars_hv-secfpn-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
DISTILL = PD + \
    'pointdistiller_pointpillars-4x_1xb2-cpu_synthetic-kitti-3d-3class.py'
#: row name -> (role, config), in table order
DEMO_ROWS = {
    'teacher': ('teacher', TEACHER),
    'student 4x': ('student', STUDENT),
    'student 4x + PointDistiller': ('method', DISTILL),
}
#: more pedestrians and cyclists per scan than the generator's default, so
#: that their AP rests on more objects
PED_PROBS = [0.1, 0.2, 0.25, 0.2, 0.15, 0.1]
CYC_PROBS = [0.2, 0.3, 0.3, 0.2]


def add_run_args(parser: argparse.ArgumentParser) -> None:
    """Data and schedule options of the demo."""
    parser.add_argument('--num-train', type=int, default=300)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--teacher-epochs', type=int, default=4)
    parser.add_argument('--student-epochs', type=int, default=1)
    parser.add_argument('--gate-margin', type=float, default=3.0)
    parser.add_argument('--bootstrap', type=int, default=200,
                        help='bootstrap resamples of the validation frames')
    parser.add_argument(
        '--cost-steps',
        type=int,
        default=3,
        help='timed steps of the distillation overhead benchmark (0: skip)')
    parser.add_argument('--latency-frames', type=int, default=10)
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        choices=(1, 2),
        help='runs trained at a time (2: teacher and student together, one '
        'thread each; the tests use it, where process start-up dominates)')
    parser.add_argument(
        '--force', action='store_true', help='regenerate and retrain')


def write_demo_spec(path: str, args: argparse.Namespace, data_root: str,
                    seed: int) -> str:
    """Write the demo's study spec (a Python config) to ``path``."""
    rows = []
    for name, (role, config) in DEMO_ROWS.items():
        row = dict(name=name, role=role, config=config)
        if role == 'teacher':
            row['schedule'] = dict(max_epochs=args.teacher_epochs,
                                   val_interval=1)
            row['seed'] = seed
        rows.append(row)
    settings = dict(num_train=args.num_train, num_val=args.num_val,
                    ped_probs=PED_PROBS, cyc_probs=CYC_PROBS)
    text = f'''# The study behind `make demo` (written by tools/demo.py).
task = 'det'
metric = 'BEV mAP'
metrics = ['BEV mAP', '3D mAP']
seeds = [{seed}]
gate_margin = {args.gate_margin!r}
jobs = {args.jobs}
data = dict(type='kitti', root={data_root!r}, seed={seed},
            settings={settings!r})
schedule = dict(max_epochs={args.student_epochs})
cfg_options = {{
    'train_dataloader.num_workers': 1,
    'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False,
    'test_dataloader.num_workers': 0,
    'test_dataloader.persistent_workers': False,
    'default_hooks.logger.interval': 25,
}}
bootstrap = dict(num_samples={args.bootstrap}, seed=0)
rows = {rows!r}
'''
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    return path


def summary_lines(stats: dict) -> List[str]:
    """The gate and the paired gain, as the demo prints them."""
    lines = [f'teacher gate: {stats["gate"]["reason"]}']
    for pair in stats['paired']:
        noise = pair.get('eval_noise')
        noise_txt = f' (evaluation noise of the difference ±{noise:.2f})' \
            if noise is not None else ''
        lines.append(
            f'{pair["name"]} - student 4x, {pair["metric"]}, seed '
            f'{pair["seeds"][0]}: {pair["mean"]:+.2f} points{noise_txt}')
    return lines


def run_demo(args: argparse.Namespace, out_dir: str, data_root: str,
             seed: int, command: str = '') -> Dict[str, dict]:
    """Data, gated study and benchmark of the demo.

    Returns:
        dict: ``study`` (study.json content) and ``benchmark``
        (results.json content).
    """
    spec = write_demo_spec(osp.join(out_dir, 'demo_study.py'), args,
                           data_root, seed)
    stats = run_study(
        spec,
        out_dir,
        out_dir=out_dir,
        jobs=args.jobs,
        force=args.force,
        ignore_gate=True,
        command=command)
    ckpts = {r['name']: r['checkpoints'][str(seed)] for r in stats['rows']}
    models = [
        ModelSpec(name, DEMO_ROWS[name][1], ckpts[name]) for name in DEMO_ROWS
    ]
    notes = summary_lines(stats) + [
        f'Data: {args.num_train} train / {args.num_val} val synthetic '
        f'frames (seed {seed}); teacher {args.teacher_epochs} epochs, '
        f'students {args.student_epochs} epoch(s), batch 2, CPU; training '
        f'seed {seed}. The study behind the gate: study.md.'
    ]
    commands = [command] if command else []
    commands += [c for r in stats['rows'] for c in r['commands'].values()]
    log('benchmark: parameters, GMACs, latency, step cost, pictures')
    bench = run_benchmark(
        models,
        'det',
        out_dir,
        'PointPillars teacher vs 4x student vs 4x student + PointDistiller '
        f'(synthetic KITTI, seed {seed})',
        data_root=data_root,
        distill_config=DISTILL,
        teacher_ckpt=ckpts['teacher'],
        cost_steps=args.cost_steps,
        latency_frames=args.latency_frames,
        frame_index='auto',
        commands=commands,
        notes=notes,
        reuse=not args.force)
    return dict(study=stats, benchmark=bench)
