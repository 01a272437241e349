"""How much of the teacher's BEV features a student's already explain.

Usage:
    python tools/feature_gap.py CONFIG --teacher-ckpt PATH
        --student NAME CKPT [--student NAME CKPT ...]
        [--data-root DIR] [--frames 40] [--module neck]
        [--context bbox_head.conv_cls] [--threshold 0.3]
        [--pixels 1000] [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a distillation config (it names the teacher and the student
architecture). Each ``--student`` checkpoint (a plain student or a
distillation run's) and the teacher run on the first ``--frames``
validation scans (eval mode); from the ``--module`` outputs, (1, C, H, W)
on both sides, a ridge map student -> teacher is fitted on the first half
of the scans and scored on the second (held-out R^2, the explained share
of the teacher's feature variance; :mod:`distill3d.benchmark.feature_gap`)
for two pixel sets: ``--pixels`` random pixels per scan, and the pixels
where the teacher's ``--context`` classification map is confident
(largest sigmoid above ``--threshold``). Nothing is trained. To score
training scans instead (does a student imitate the teacher on the scans it
was trained on but not on new ones?), point the validation set at them,
e.g. ``--cfg-options val_dataloader.dataset.ann_file=kitti_infos_train.pkl``.
"""
import argparse
import json

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import torch
from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from distill3d.benchmark.feature_gap import (confident_mask, feature_gap,
                                             random_mask)
from distill3d.engine import load_analysis_cfg
from distill3d.utils import load_student_weights


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='distillation config')
    parser.add_argument('--teacher-ckpt', required=True)
    parser.add_argument('--student', nargs=2, action='append',
                        metavar=('NAME', 'CKPT'), required=True)
    parser.add_argument('--data-root')
    parser.add_argument('--frames', type=int, default=40)
    parser.add_argument('--module', default='neck',
                        help='module recorded on both sides')
    parser.add_argument('--context', default='bbox_head.conv_cls',
                        help='teacher classification map for the '
                        'confident-pixel set')
    parser.add_argument('--threshold', type=float, default=0.3)
    parser.add_argument('--pixels', type=int, default=1000,
                        help='random pixels per scan')
    parser.add_argument('--work-dir', default='work_dirs/feature_gap')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def _hook(store: dict, key: str):

    def hook(module, inputs, output):
        if isinstance(output, (list, tuple)):
            output = output[0]
        store[key] = output.detach()

    return hook


@torch.no_grad()
def _features(model, batches, keys) -> dict:
    """Per key, the recorded (1, C, H, W) output of every batch."""
    store, out = {}, {k: [] for k in keys}
    handles = [
        model.get_submodule(k).register_forward_hook(_hook(store, k))
        for k in keys
    ]
    model.eval()
    try:
        for batch in batches:
            model(**model.data_preprocessor(batch, False), mode='tensor')
            for k in keys:
                out[k].append(store[k])
    finally:
        for h in handles:
            h.remove()
    return out


def main() -> None:
    args = parse_args()
    cfg = load_analysis_cfg(args.config, args.work_dir, args.data_root,
                            args.cfg_options, args.teacher_ckpt)
    val = cfg.val_dataloader
    val.batch_size, val.num_workers, val.persistent_workers = 1, 0, False
    runner = RUNNERS.build(cfg)
    distiller = runner.model
    loader = iter(Runner.build_dataloader(val))
    batches = [next(loader) for _ in range(args.frames)]
    teacher = _features(distiller.teacher, batches,
                        [args.module, args.context])
    gen = torch.Generator().manual_seed(0)
    masks = dict(
        random=[
            random_mask(t[0, 0].numel(), args.pixels, gen)
            for t in teacher[args.module]
        ],
        confident=[
            confident_mask(c, args.threshold) for c in teacher[args.context]
        ])
    counts = {k: int(sum(m.sum() for m in v)) for k, v in masks.items()}
    result = dict(config=args.config, frames=args.frames,
                  module=args.module, threshold=args.threshold,
                  pixels=counts, students={})
    for name, path in args.student:
        load_student_weights(distiller, path)
        student = _features(distiller.student, batches, [args.module])
        gap = feature_gap(student[args.module], teacher[args.module], masks)
        result['students'][name] = gap
        print(f'{name}: held-out R^2 of teacher {args.module} from the '
              f"student's: random pixels {gap['random']['r2']:.3f}, "
              f"teacher-confident pixels {gap['confident']['r2']:.3f} "
              f"({counts['confident']} pixels)")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
