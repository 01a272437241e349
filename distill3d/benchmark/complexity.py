# Copyright (c) distill3d contributors. All rights reserved.
"""Model cost: parameters and multiply-accumulates of one predict step."""
import torch
from torch import nn

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


def count_params(model: nn.Module) -> int:
    """Number of parameters of ``model``."""
    return sum(p.numel() for p in model.parameters())
