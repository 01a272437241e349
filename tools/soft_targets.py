"""What a classification teacher's soft targets hold, on training and test.

Usage:
    python tools/soft_targets.py CONFIG --teacher-ckpt PATH
        [--student NAME CKPT ...] [--data-root DIR]
        [--splits train test] [--temperatures 1 4] [--max-batches N]
        [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a classification distillation config (e.g. the logit-KD config
of projects/FAD); it names the teacher and the student architecture. The
teacher and each ``--student`` checkpoint (a plain student or a
distillation run's) run in eval mode on the ``train`` split as training
sees it (the training pipeline, augmentation included) and on the
``test`` split. Per split it prints the teacher's accuracy and, per
temperature, the entropy of its softmax (against ``ln C``) and its mean
probability of the true and of the top class
(:mod:`distill3d.benchmark.soft_targets`); per student its accuracy and
how often it is wrong where the teacher is right. A teacher that fits
little of its own training split, or whose softmax at the KD temperature
is near uniform, gives logit KD little to teach. Nothing is trained.
"""
import argparse
import json
from itertools import islice
from typing import Dict, List, Tuple

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from distill3d.benchmark.soft_targets import soft_target_report
from distill3d.engine import load_analysis_cfg
from distill3d.utils import load_student_weights

_LOADERS = dict(train='train_dataloader', test='test_dataloader')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='classification distillation config')
    parser.add_argument('--teacher-ckpt', required=True)
    parser.add_argument('--student', nargs=2, action='append', default=[],
                        metavar=('NAME', 'CKPT'))
    parser.add_argument('--data-root')
    parser.add_argument('--splits', nargs='+', choices=sorted(_LOADERS),
                        default=['train', 'test'])
    parser.add_argument('--temperatures', type=float, nargs='+',
                        default=[1.0, 4.0])
    parser.add_argument('--max-batches', type=int,
                        help='at most this many batches per split (all)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the training split\'s augmentation')
    parser.add_argument('--work-dir', default='work_dirs/soft_targets')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


@torch.no_grad()
def _logits(model, batches: List[dict]) -> Tuple[np.ndarray, np.ndarray]:
    """(N, C) logits of ``model`` (eval mode) and the (N, ) labels."""
    model.eval()
    logits, labels = [], []
    for batch in batches:
        data = model.data_preprocessor(batch, False)
        logits.append(model(**data, mode='tensor').float())
        labels.append(
            torch.cat([s.gt_label.reshape(-1)
                       for s in data['data_samples']]))
    return torch.cat(logits).numpy(), torch.cat(labels).numpy()


def main() -> None:
    args = parse_args()
    cfg = load_analysis_cfg(args.config, args.work_dir, args.data_root,
                            args.cfg_options, args.teacher_ckpt)
    for key in _LOADERS.values():
        cfg[key].num_workers, cfg[key].persistent_workers = 0, False
    runner = RUNNERS.build(cfg)
    distiller = runner.model
    torch.manual_seed(args.seed)
    batches: Dict[str, List[dict]] = {}
    for split in args.splits:
        loader = Runner.build_dataloader(cfg[_LOADERS[split]],
                                         seed=args.seed)
        batches[split] = list(islice(loader, args.max_batches))
    # the training split's batches are drawn once (one augmentation per
    # sample) and shown to every model
    teacher = {s: _logits(distiller.teacher, b) for s, b in batches.items()}
    students: Dict[str, Dict[str, np.ndarray]] = {s: {} for s in batches}
    for name, path in args.student:
        load_student_weights(distiller, path)
        for split, b in batches.items():
            logits, labels = _logits(distiller.student, b)
            if not np.array_equal(labels, teacher[split][1]):
                raise RuntimeError(f'{split}: the student saw other samples')
            students[split][name] = logits
    result = dict(config=args.config, teacher_ckpt=args.teacher_ckpt,
                  students={n: p for n, p in args.student}, splits={})
    for split, (t_logits, labels) in teacher.items():
        rep = soft_target_report(t_logits, labels, args.temperatures,
                                 students[split])
        result['splits'][split] = rep
        first = next(iter(rep['teacher'].values()))
        print(f'{split} ({first["num_samples"]} samples): teacher accuracy '
              f'{first["accuracy"]:.2f}%')
        for t, st in rep['teacher'].items():
            print(f'  teacher {t}: entropy {st["entropy"]:.3f} of at most '
                  f'{st["max_entropy"]:.3f} nats, p(true) '
                  f'{st["p_true"]:.3f}, p(top) {st["p_max"]:.3f}')
        for name, st in rep['students'].items():
            ag = st['agreement']
            print(f'  {name}: accuracy {st["accuracy"]:.2f}%; teacher '
                  f'right and student wrong {ag["teacher_only"]:.1f}%, '
                  f'student right and teacher wrong '
                  f'{ag["student_only"]:.1f}%')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)


if __name__ == '__main__':
    main()
