"""Gradient of each distillation term against the student's task losses.

Usage:
    python tools/kd_grad_ratio.py CONFIG [--data-root DIR]
        [--teacher-ckpt PATH] [--student-ckpt PATH] [--steps 4]
        [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a distillation config. The distiller and the train dataloader
are built as ``tools/train.py`` builds them; ``--student-ckpt`` loads a
(partly) trained student first (a plain student checkpoint or a
distillation checkpoint), since the ratios of a fresh student differ from
those in the middle of training. For ``--steps`` batches it prints, per
``loss_kd_*`` term: its value, the norm of its gradient with respect to
the student's parameters, the ratio of that norm to the task losses'
gradient norm, and the cosine between the two gradients (medians over the
batches). Nothing is trained.
"""
import argparse
import json

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import torch
from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS

from distill3d.benchmark.grad_ratio import format_ratios, kd_gradient_ratios
from distill3d.engine import build_distill_cfg
from distill3d.utils import load_student_weights, set_data_root


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation config')
    parser.add_argument('--data-root')
    parser.add_argument('--teacher-ckpt')
    parser.add_argument('--student-ckpt')
    parser.add_argument('--steps', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/kd_grad_ratio')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.teacher_ckpt:
        cfg.teacher_ckpt = args.teacher_ckpt
    cfg = build_distill_cfg(cfg)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.work_dir = args.work_dir
    cfg.log_level = 'WARNING'
    cfg.launcher = 'none'
    runner = RUNNERS.build(cfg)
    model = runner.model
    distiller = model.module if is_model_wrapper(model) else model
    if args.student_ckpt:
        load_student_weights(distiller, args.student_ckpt)
    loader = iter(runner.build_dataloader(cfg.train_dataloader))
    batches = [next(loader) for _ in range(args.steps)]
    result = kd_gradient_ratios(distiller, batches)
    print(format_ratios(result, args.config))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
