"""Train a model (or a distillation) from a config with mmengine's Runner.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--auto-scale-lr]
        [--resume [CKPT]] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher pytorch]

The flags are mmdet3d's. ``import distill3d`` comes first so that the CPU
support layer and checkpoint allow-list are in place before mmdet3d loads.
"""
import argparse
import logging
import os
import os.path as osp

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from distill3d.utils import (freeze_startup_objects, set_data_root,
                            use_gloo_on_cpu)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a 3D model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size')
    parser.add_argument(
        '--sync_bn',
        choices=['none', 'torch', 'mmcv'],
        default='none',
        help='convert BN layers to SyncBN')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or the latest one in work_dir '
        'when no path is given')
    parser.add_argument(
        '--ceph', action='store_true', help='use ceph as data storage')
    parser.add_argument(
        '--data-root',
        help='point the config at this data root (every path derived from '
        'its data_root is rewritten; --cfg-options data_root=... is not '
        'enough)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs, e.g. '
        'train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.data_root is not None:
        set_data_root(cfg, args.data_root)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'AmpOptimWrapper':
            print_log('AMP is already enabled in the config.',
                      logger='current', level=logging.WARNING)
        else:
            if wrapper != 'OptimWrapper':
                raise ValueError(
                    f'--amp needs optim_wrapper.type OptimWrapper, got '
                    f'{wrapper!r}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise RuntimeError('the config has no auto_scale_lr.'
                               'base_batch_size for --auto-scale-lr')
        cfg.auto_scale_lr.enable = True
    if args.sync_bn != 'none':
        cfg.sync_bn = args.sync_bn
    if args.ceph:
        cfg.backend_args = dict(backend='petrel')
    use_gloo_on_cpu(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main() -> None:
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    args = parse_args()
    cfg = build_cfg(args)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
