"""Run a distillation study: teacher, plain student, methods, seeds.

Usage:
    python tools/study.py SPEC [--work-dir DIR] [--out-dir DIR]
        [--seeds 0 1 2] [--jobs 1|2] [--rows [NAME ...]] [--force]
        [--ignore-gate] [--report-only]

SPEC is a study spec (``distill3d.benchmark.study_spec``), e.g.
``projects/PointDistiller/studies/pointpillars-4x_synthetic-kitti.py``.
The runner prepares the data, trains what is missing (checkpoints made
with the same settings are reused; an interrupted run resumes; a run the
ledger ``<out-dir>/study_runs.json`` holds is not retrained unless its
checkpoint is needed: keep the ledger with the report and a later
session, whose work dir is gone, goes on from it), evaluates
every run with the task's mmdet3d metric plus a bootstrap over validation
frames, refuses a verdict when the teacher does not beat the plain
student by the spec's margin, and writes ``study.json``, ``study.md`` and
``study.png`` (rows with 95% intervals, paired differences to the plain
student of the same seed, the teacher's validation curve).

Run long studies in the background, e.g.
``nice python tools/study.py SPEC > study.log 2>&1 &``; rerun the same
command to resume.
"""
import argparse
import os
import shlex
import sys
import warnings

import distill3d  # noqa: F401  (CPU support, safe globals, registries)

from distill3d.benchmark.study import import_report, run_study
from distill3d.benchmark.study_runs import REPO
from distill3d.utils import freeze_startup_objects


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('spec', help='study spec (Python config)')
    parser.add_argument(
        '--work-dir',
        help='where the runs go (default: work_dirs/studies/<spec name>)')
    parser.add_argument(
        '--out-dir', help='where study.{json,md,png} go (default: work dir)')
    parser.add_argument('--seeds', type=int, nargs='+',
                        help="override the spec's seeds")
    parser.add_argument('--rows', nargs='*', metavar='NAME',
                        help='run only these method rows (the plain '
                        "student, the teacher and the spec's reference "
                        'row always run); no NAME: none, i.e. the teacher '
                        'and the plain student only')
    parser.add_argument('--jobs', type=int, choices=[1, 2],
                        help='training processes at once (2: one thread '
                        'each)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate the data, retrain and re-evaluate')
    parser.add_argument('--ignore-gate', action='store_true',
                        help='train the methods even if the teacher fails '
                        'the gate (verdicts stay refused)')
    parser.add_argument('--report-only', action='store_true',
                        help='train nothing; report the finished runs')
    parser.add_argument('--import-report', metavar='STUDY_JSON',
                        help='first record the runs of an earlier '
                        'study.json in the ledger (<out-dir>/'
                        'study_runs.json), as planned by the spec now: '
                        'for a study whose work dir is gone')
    return parser.parse_args()


def main() -> None:
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    warnings.filterwarnings('ignore', message='pkg_resources is deprecated')
    args = parse_args()
    spec = os.path.abspath(args.spec)
    os.chdir(REPO)
    name = os.path.splitext(os.path.basename(spec))[0]
    work_dir = args.work_dir or os.path.join('work_dirs', 'studies', name)
    if args.import_report:
        keys = import_report(spec, work_dir, os.path.abspath(
            args.import_report), out_dir=args.out_dir, seeds=args.seeds)
        print(f'imported {len(keys)} runs from {args.import_report}: '
              + ', '.join(keys))
    stats = run_study(
        spec,
        work_dir,
        out_dir=args.out_dir,
        seeds=args.seeds,
        jobs=args.jobs,
        force=args.force,
        ignore_gate=args.ignore_gate,
        report_only=args.report_only,
        command=' '.join(shlex.quote(a) for a in ['python'] + sys.argv),
        only_rows=args.rows)
    with open(os.path.join(args.out_dir or work_dir, 'study.md')) as f:
        print(f.read())
    has_methods = any(r['role'] == 'method' for r in stats['rows'])
    # exit 3: the teacher failed the gate, the study gives no verdict
    sys.exit(3 if has_methods and not stats['gate']['passed'] else 0)


if __name__ == '__main__':
    main()
