"""Gradient of each distillation term against the student's task losses.

Usage:
    python tools/kd_grad_ratio.py CONFIG [--data-root DIR]
        [--teacher-ckpt PATH] [--student-ckpt PATH] [--steps 4]
        [--at MODULE] [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a distillation config. The distiller and the train dataloader
are built as ``tools/train.py`` builds them; ``--student-ckpt`` loads a
(partly) trained student first (a plain student checkpoint or a
distillation checkpoint), since the ratios of a fresh student differ from
those in the middle of training. For ``--steps`` batches it prints, per
``loss_kd_*`` term: its value, the norm of its gradient with respect to
the student's parameters, the ratio of that norm to the task losses'
gradient norm, and the cosine between the two gradients (medians over the
batches). ``--at MODULE`` (a student module, e.g.
``decode_head.conv_seg``) adds, per term, the gradient per row of that
module's output against the task's on the same rows, and the rows' norm
(:func:`distill3d.benchmark.grad_ratio.kd_gradient_ratios`). Nothing is
trained. ``--seed`` fixes the batches (shuffle and augmentations): the
same seed gives the same numbers.
"""
import argparse
import json

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import torch
from mmengine.config import DictAction
from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS

from distill3d.benchmark.grad_ratio import format_ratios, kd_gradient_ratios
from distill3d.engine import load_analysis_cfg
from distill3d.utils import load_student_weights


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation config')
    parser.add_argument('--data-root')
    parser.add_argument('--teacher-ckpt')
    parser.add_argument('--student-ckpt')
    parser.add_argument('--steps', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the batches drawn (default 0)')
    parser.add_argument('--work-dir', default='work_dirs/kd_grad_ratio')
    parser.add_argument('--at', metavar='MODULE',
                        help='also take the gradients at the output of '
                        'this student module, row by row')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    cfg = load_analysis_cfg(args.config, args.work_dir, args.data_root,
                            args.cfg_options, args.teacher_ckpt)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    # the Runner seeds Python, numpy and torch and, through them, the
    # sampler's shuffle and the augmentations: the same --seed gives the
    # same batches, run after run
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=args.seed)
    runner = RUNNERS.build(cfg)
    model = runner.model
    distiller = model.module if is_model_wrapper(model) else model
    if args.student_ckpt:
        load_student_weights(distiller, args.student_ckpt)
    loader = iter(runner.build_dataloader(cfg.train_dataloader))
    batches = [next(loader) for _ in range(args.steps)]
    result = kd_gradient_ratios(distiller, batches, at=args.at)
    print(format_ratios(result, args.config))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
