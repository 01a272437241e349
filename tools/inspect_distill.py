"""Show what can be distilled between a config's student and teacher.

Usage:
    python tools/inspect_distill.py CONFIG [--teacher-cfg TEACHER]
        [--depth 3] [--samples 2] [--check] [--data-root DIR]
        [--cfg-options k=v ...]

CONFIG is a distillation config, or a plain student config with
``--teacher-cfg`` (a path or ``mmdet3d::...``). Both models run one real
batch of the training data (no checkpoint is loaded). Printed per side:
every module up to ``--depth`` whose output can be recorded (name, record
kind, channels, shape); then the student / teacher pairs that live on the
same nodes and the adapter each needs. Use the names as a
``distill_losses`` term's ``student`` / ``teacher``.

``--check`` builds the config's distiller and runs one training step:
each ``loss_kd_*`` term with the records it compares and its value; exits
1 with the reason when the distiller cannot be built or a term fails.
"""
import argparse
import sys

import distill3d  # noqa: F401  (CPU support, registries)
from mmengine.config import Config, DictAction

from distill3d.apis.inspect import (check_distill, format_inspection,
                                    inspect_distill)
from distill3d.utils import set_data_root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation or student config')
    parser.add_argument('--teacher-cfg',
                        help='teacher config (path or mmdet3d::...) for a '
                        'plain student config; overrides the config\'s')
    parser.add_argument('--depth', type=int, default=3)
    parser.add_argument('--samples', type=int, default=2)
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--data-root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def load_cfg(args: argparse.Namespace) -> Config:
    """The config, made a distillation config with ``--teacher-cfg``."""
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_cfg:
        cfg.teacher_cfg = args.teacher_cfg
    if 'distiller' not in cfg:
        if 'teacher_cfg' not in cfg:
            raise SystemExit(f'{args.config} is not a distillation config: '
                             'give --teacher-cfg')
        cfg.distiller = dict(type='Distiller3D', distill_losses={})
    cfg.train_dataloader.num_workers = 0
    return cfg


def main() -> int:
    args = parse_args()
    cfg = load_cfg(args)
    if args.check:
        checks = check_distill(cfg, args.samples)
        for c in checks:
            print(f'{"ok  " if c.ok else "FAIL"} {c.name}: {c.message}')
        return 0 if all(c.ok for c in checks) else 1
    print(format_inspection(inspect_distill(cfg, args.depth, args.samples)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
