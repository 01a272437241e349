"""What a trained FAD discriminator keys on, on a split of the data.

Usage:
    python tools/fad_probe.py CONFIG CKPT [--teacher-ckpt PATH]
        [--term loss_kd_fad] [--data-root DIR] [--split test]
        [--max-batches N] [--json OUT.json] [--cfg-options k=v ...]

CONFIG is a FAD distillation config with the settings the run was trained
with (pass the study row's ``cfg_options`` again); CKPT is that run's
checkpoint (the whole distiller: student, adapter, discriminator). The
distiller runs in eval mode on the split; for every sample the tool takes
the student's feature after the adapter and the teacher's feature as the
discriminator sees them (normalised), the discriminator's logits on both
(conditioned on the teacher's class probabilities when the term is) and
its gradient at the student's feature, and prints
:func:`distill3d.benchmark.adversarial_probe.discriminator_report`: the
real/fake margin against the generator loss's chance floor, how much the
student's feature is tied to the teacher's feature of the same sample
rather than of its class, and whether the gradient points the same way
for every sample. Nothing is trained.
"""
import argparse
import json
from itertools import islice

import distill3d  # noqa: F401  (CPU support, safe globals, registries)
import torch
from mmengine.config import DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner, load_checkpoint

from distill3d.benchmark.adversarial_probe import discriminator_report
from distill3d.engine import load_analysis_cfg

_LOADERS = dict(train='train_dataloader', val='val_dataloader',
                test='test_dataloader')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='FAD distillation config')
    parser.add_argument('checkpoint', help='the FAD run\'s checkpoint')
    parser.add_argument('--teacher-ckpt')
    parser.add_argument('--term', default='loss_kd_fad',
                        help='the adversarial loss_kd_* term')
    parser.add_argument('--data-root')
    parser.add_argument('--split', choices=sorted(_LOADERS), default='test')
    parser.add_argument('--max-batches', type=int,
                        help='at most this many batches (all)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/fad_probe')
    parser.add_argument('--json')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_analysis_cfg(args.config, args.work_dir, args.data_root,
                            args.cfg_options, args.teacher_ckpt)
    loader_cfg = cfg[_LOADERS[args.split]]
    loader_cfg.num_workers, loader_cfg.persistent_workers = 0, False
    runner = RUNNERS.build(cfg)
    distiller = runner.model
    load_checkpoint(distiller, args.checkpoint, map_location='cpu',
                    strict=True, logger='silent')
    distiller.eval()
    loss = distiller.distill_loss(args.term)
    if not getattr(loss, 'is_adversarial', False):
        raise ValueError(f'{args.term} is not an adversarial term '
                         f'({type(loss).__name__})')
    torch.manual_seed(args.seed)
    loader = Runner.build_dataloader(loader_cfg, seed=args.seed)
    parts = dict(real=[], fake=[], student=[], teacher=[], grad=[],
                 labels=[])
    for batch in islice(loader, args.max_batches):
        data = distiller.data_preprocessor(batch, False)
        with torch.no_grad():
            distiller(**data, mode='loss')
        # the step's features and condition, as the loss cached them for
        # its discriminator update; _disc conditions when the term does
        fake_feat, real_feat = loss._pair
        student = loss._prep(fake_feat).requires_grad_(True)
        teacher = loss._prep(real_feat)
        fake = loss._disc(student).reshape(-1)
        grad, = torch.autograd.grad(fake.sum(), student)
        with torch.no_grad():
            real = loss._disc(teacher).reshape(-1)
        loss.clear()
        parts['real'].append(real.detach())
        parts['fake'].append(fake.detach())
        parts['student'].append(student.detach())
        parts['teacher'].append(teacher)
        parts['grad'].append(grad)
        parts['labels'].append(
            torch.cat([s.gt_label.reshape(-1)
                       for s in data['data_samples']]))
    arrays = {k: torch.cat(v).numpy() for k, v in parts.items()}
    report = discriminator_report(arrays['real'], arrays['fake'],
                                  arrays['student'], arrays['teacher'],
                                  arrays['grad'], arrays['labels'],
                                  seed=args.seed)
    print(f'{args.split} ({report["num_samples"]} samples): discriminator '
          f'accuracy {report["accuracy"]:.3f}, margin '
          f'{report["margin"]:+.4f} (real {report["real_logit"]:+.4f}, fake '
          f'{report["fake_logit"]:+.4f}); generator loss '
          f'{report["generator_loss"]:.4f}, chance '
          f'{report["chance_loss"]:.4f}')
    print(f'cosine of the student feature to the teacher feature of the '
          f'same sample {report["cos_same_sample"]:.3f}, of another sample '
          f'of its class {report["cos_same_class"]:.3f}, of any sample '
          f'{report["cos_any_sample"]:.3f}')
    print(f'gradient at the student feature: median norm '
          f'{report["grad_norm"]:.4f}; mean pairwise cosine of its '
          f'directions: all {report["grad_cos_all"]:.3f}, within a class '
          f'{report["grad_cos_within_class"]:.3f}, class means '
          f'{report["grad_cos_class_means"]:.3f}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                           split=args.split, term=args.term,
                           report=report), f, indent=2)


if __name__ == '__main__':
    main()
