"""Export the student of a distillation checkpoint as a plain mmdet3d model.

Usage:
    python tools/export_student.py CONFIG CHECKPOINT [--out OUT.pth]
        [--out-config OUT.py] [--no-custom-imports]

CONFIG is the distillation config the checkpoint was trained with. The
written checkpoint holds ``state_dict`` (the ``student.*`` weights without
the prefix) and ``meta`` (the run's meta, dataset meta included, as plain
Python values, and the student config as ``cfg``): no teacher, adapter or
distillation-loss weights, no optimizer, and nothing that needs distill3d
(or numpy / mmengine types) to unpickle, so ``torch.load(..., weights_only=
True)`` and ``mmdet3d.apis.init_model(student_config, OUT.pth)`` work in a
plain mmdet3d environment.

``--out-config`` writes the student's config: the config with ``model``
being the student and the distillation keys (``runner_type``,
``distiller``, ``teacher_cfg``, ``teacher_ckpt``) and distillation hooks
removed. ``--no-custom-imports`` also removes ``distill3d`` from its
``custom_imports`` (distill3d is still needed for the CPU ops of some
models; on GPU plain mmdet3d runs them).
"""
import argparse
import os.path as osp

import distill3d  # noqa: F401  (safe globals to read mmengine checkpoints)
from distill3d.apis import export_student


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation config')
    parser.add_argument('checkpoint', help='distillation checkpoint')
    parser.add_argument(
        '--out',
        help='student checkpoint to write (default: '
        '<CHECKPOINT without .pth>_student.pth)')
    parser.add_argument('--out-config', help="write the student's config")
    parser.add_argument(
        '--no-custom-imports',
        action='store_true',
        help="drop distill3d from the student config's custom_imports")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out = args.out or osp.splitext(args.checkpoint)[0] + '_student.pth'
    summary = export_student(args.config, args.checkpoint, out,
                             args.out_config, args.no_custom_imports)
    dropped = ', '.join(f'{g}.* ({n} keys)'
                        for g, n in summary['dropped_key_groups'].items())
    print(f'student params: {summary["student_params"]:,}')
    print(f'student keys:   {summary["num_keys"]}')
    print(f'dropped:        {dropped or "nothing"}')
    if summary['dropped_meta']:
        print(f'not exported:   {", ".join(summary["dropped_meta"])}')
    print(f'checkpoint:     {out}')
    if args.out_config:
        print(f'config:         {args.out_config}')


if __name__ == '__main__':
    main()
