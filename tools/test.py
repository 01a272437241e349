"""Test (evaluate) a checkpoint with mmengine's Runner and the config's
metric (mmdet3d's KittiMetric, SegMetric, ...).

Usage:
    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--data-root DIR] [--cfg-options k=v ...] [--show-dir DIR]
        [--task TASK] [--launcher pytorch]

For a distillation config this evaluates the student on its own: the
student's config (the distillation keys and the teacher's input pipeline
removed, see ``distill3d.apis.student_config``) with the checkpoint's
``student.*`` weights. Neither the teacher nor its checkpoint is needed.
"""
import argparse
import os
import os.path as osp

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from distill3d.apis import (is_distill_config, load_student_checkpoint,
                            student_config)
from distill3d.utils import (freeze_startup_objects, set_data_root,
                            use_gloo_on_cpu)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--ceph', action='store_true', help='use ceph as data storage')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='directory where painted images or point clouds will be saved')
    parser.add_argument(
        '--score-thr', type=float, default=0.1, help='bbox score threshold')
    parser.add_argument(
        '--task',
        type=str,
        choices=[
            'mono_det', 'multi-view_det', 'lidar_det', 'lidar_seg',
            'multi-modality_det'
        ],
        help='visualization task, needed with --show or --show-dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--data-root',
        help='point the config at this data root (every path derived from '
        'its data_root is rewritten; --cfg-options data_root=... is not '
        'enough)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--tta', action='store_true', help='test time aug')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def trigger_visualization_hook(cfg: Config,
                               args: argparse.Namespace) -> Config:
    """Switch mmdet3d's Det3DVisualizationHook on for --show/--show-dir."""
    default_hooks = cfg.default_hooks
    if 'visualization' not in default_hooks:
        raise RuntimeError(
            '--show/--show-dir need default_hooks.visualization '
            '(mmdet3d Det3DVisualizationHook) in the config')
    hook = default_hooks['visualization']
    hook['draw'] = True
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        hook['test_out_dir'] = args.show_dir
    all_task_choices = [
        'mono_det', 'multi-view_det', 'lidar_det', 'lidar_seg',
        'multi-modality_det'
    ]
    if args.task not in all_task_choices:
        raise ValueError('--task must be one of '
                         f'{all_task_choices} with --show/--show-dir')
    hook['vis_task'] = args.task
    hook['score_thr'] = args.score_thr
    return cfg


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line overrides."""
    cfg = Config.fromfile(args.config)
    if args.ceph:
        cfg.backend_args = dict(backend='petrel')
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
    if is_distill_config(cfg):
        # the student alone; its weights are loaded by build_runner
        cfg = student_config(cfg)
        cfg.load_from = None
    else:
        cfg.load_from = args.checkpoint
    use_gloo_on_cpu(cfg)
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)
    if args.tta:
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise RuntimeError('--tta needs tta_model and tta_pipeline in '
                               'the config')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = ConfigDict(**cfg.tta_model)
    return cfg


def build_runner(cfg: Config, checkpoint: str) -> Runner:
    """The test runner of ``build_cfg``'s config, weights loaded.

    A checkpoint that ``load_from`` does not load (a distillation
    checkpoint tested through its student's config) is loaded here,
    strictly: its ``student.*`` keys must fit the student exactly.
    """
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if cfg.load_from is None:
        skipped = load_student_checkpoint(runner.model, checkpoint)
        groups = ', '.join(f'{g}.* ({n} keys)' for g, n in skipped.items())
        runner.logger.info(
            f'testing the student of a distillation config: student '
            f'weights from {checkpoint}; not built and skipped: '
            f'{groups or "nothing"}')
    return runner


def main() -> None:
    freeze_startup_objects()  # the imports' objects: no full-GC walks
    args = parse_args()
    build_runner(build_cfg(args), args.checkpoint).test()


if __name__ == '__main__':
    main()
