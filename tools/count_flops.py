"""Count the multiply-accumulates (MACs) of one forward pass of a model.

Usage:
    python tools/count_flops.py CONFIG [CONFIG ...] [--data-root DIR]
        [--index 0]

Runs the config's model (the student for a distillation config) in predict
mode on one sample of its test data set and sums, through forward hooks,
the MACs of dense convolutions (1d/2d/3d, transposed) and linear layers:
output elements x input channels per group x kernel volume. Sparse
convolutions (spconv, mmcv) and point ops are not counted; the tool says
how many such layers ran. Papers that report "FLOPs" for PointPillars count
MACs this way (dense BEV layers dominate).
"""
import argparse

import distill3d  # noqa: F401
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import nn

from mmdet3d.registry import DATASETS, MODELS
from mmdet3d.utils import register_all_modules
from distill3d.engine import build_distill_cfg
from distill3d.utils import set_data_root

_DENSE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
          nn.ConvTranspose2d, nn.ConvTranspose3d)


def count_macs(model: nn.Module, batch: dict) -> dict:
    """MACs of dense and linear layers in one ``test_step`` on ``batch``.

    Returns:
        dict: ``macs`` (int), ``dense_layers`` and ``uncounted_layers``
        (number of sparse-conv layers that ran but are not counted).
    """
    stats = dict(macs=0, dense_layers=0, uncounted_layers=0)

    def dense(module, args, output):
        if isinstance(module, nn.Linear):
            macs = output.numel() * module.in_features
        elif isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d,
                                 nn.ConvTranspose3d)):
            # each input element meets every kernel tap once
            kernel = torch.tensor(module.kernel_size).prod().item()
            macs = args[0].numel() * kernel * module.out_channels // \
                module.groups
        else:
            kernel = torch.tensor(module.kernel_size).prod().item()
            macs = output.numel() * kernel * module.in_channels // \
                module.groups
        stats['macs'] += int(macs)
        stats['dense_layers'] += 1

    def sparse(module, args, output):
        stats['uncounted_layers'] += 1

    handles = []
    for module in model.modules():
        if isinstance(module, _DENSE + (nn.Linear, )):
            handles.append(module.register_forward_hook(dense))
        elif 'SparseConv' in type(module).__name__ or \
                'SubMConv' in type(module).__name__:
            handles.append(module.register_forward_hook(sparse))
    with torch.no_grad():
        model.test_step(batch)
    for handle in handles:
        handle.remove()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--data-root')
    parser.add_argument('--index', type=int, default=0)
    args = parser.parse_args()
    register_all_modules()
    for path in args.configs:
        cfg = Config.fromfile(path)
        if 'distiller' in cfg:
            cfg = build_distill_cfg(cfg)
            cfg.model = cfg.model.student
        if args.data_root:
            set_data_root(cfg, args.data_root)
        model = MODELS.build(cfg.model).eval()
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        stats = count_macs(model, pseudo_collate([dataset[args.index]]))
        params = sum(p.numel() for p in model.parameters())
        note = f", {stats['uncounted_layers']} sparse-conv layer calls " \
            'not counted' if stats['uncounted_layers'] else ''
        print(f'{path}: params {params / 1e6:.2f}M, '
              f'{stats["macs"] / 1e9:.2f} GMACs (dense/linear)' + note)


if __name__ == '__main__':
    main()
