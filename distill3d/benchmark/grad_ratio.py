# Copyright (c) distill3d contributors. All rights reserved.
"""How strongly each distillation term pulls on the student.

For a distiller and a few training batches, the gradient of every
``loss_kd_*`` term and of the student's own task losses (their sum) with
respect to the student's parameters: norms, the ratio of each KD term's
norm to the task gradient's, and the cosine between the two. A KD term
whose ratio is ~0.01 barely changes training; one at ~10 drowns the task.
"""
import math
import statistics
from typing import Dict, List, Optional

import torch
from torch import nn


def _grad_vector(loss: torch.Tensor, params: List[nn.Parameter]) -> \
        torch.Tensor:
    grads = torch.autograd.grad(
        loss, params, retain_graph=True, allow_unused=True)
    return torch.cat([
        (g if g is not None else torch.zeros_like(p)).reshape(-1)
        for g, p in zip(grads, params)
    ])


def _reached(g: torch.Tensor, params: List[nn.Parameter]) -> torch.Tensor:
    """Mask of the entries of the parameter tensors ``g`` reaches."""
    mask, start = torch.zeros_like(g, dtype=torch.bool), 0
    for p in params:
        n = p.numel()
        if g[start:start + n].abs().sum() > 0:
            mask[start:start + n] = True
        start += n
    return mask


def _total(value) -> torch.Tensor:
    """A loss entry (tensor or list of tensors, as mmdet3d heads give)."""
    if isinstance(value, (list, tuple)):
        return sum(v.sum() for v in value)
    return value.sum()


def kd_gradient_ratios(distiller: nn.Module, batches: List[dict]) -> dict:
    """Gradient norms of every KD term against the task losses.

    The distiller is put in train mode; nothing is updated (the gradients
    are computed with ``torch.autograd.grad``, parameters untouched).

    Args:
        distiller (nn.Module): A :class:`Distiller3D` (not DDP-wrapped).
        batches (list[dict]): Collated training batches.

    Returns:
        dict: ``task_norm`` (median over batches of the task gradient's
        norm), and per KD term ``<term>``: ``norm``, ``ratio`` (norm /
        task norm), ``reach_ratio`` (norm / the task gradient's norm on
        the parameter tensors the term reaches: with Adam-like optimizers
        this is what decides who steers those parameters), ``reach``
        (share of the student's parameters the term reaches) and
        ``cosine`` (with the task gradient) and ``reach_cosine`` (the
        same on the parameter tensors the term reaches: a term that
        cannot reach the head is not diluted by the head's task
        gradient), each the median over batches,
        plus ``per_batch`` lists.
    """
    distiller.train()
    params = [p for p in distiller.student.parameters() if p.requires_grad]
    per: Dict[str, Dict[str, list]] = {}
    task_norms = []
    for batch in batches:
        data = distiller.data_preprocessor(batch, True)
        losses = distiller(**data, mode='loss')
        task = sum(
            _total(v) for k, v in losses.items()
            if 'loss' in k and not k.startswith(('loss_kd', 'teacher_')))
        g_task = _grad_vector(task, params)
        task_norm = float(g_task.norm())
        task_norms.append(task_norm)
        for name, value in losses.items():
            if not name.startswith('loss_kd'):
                continue
            g = _grad_vector(_total(value), params)
            norm = float(g.norm())
            cos = float(torch.dot(g, g_task) /
                        (g.norm() * g_task.norm()).clamp_min(1e-20))
            stats = per.setdefault(
                name,
                dict(norm=[], ratio=[], reach_ratio=[], reach=[], cosine=[],
                     reach_cosine=[], value=[]))
            mask = _reached(g, params)
            stats['norm'].append(norm)
            stats['ratio'].append(norm / max(task_norm, 1e-20))
            stats['reach_ratio'].append(
                norm / max(float(g_task[mask].norm()), 1e-20))
            stats['reach'].append(float(mask.float().mean()))
            stats['cosine'].append(cos)
            stats['reach_cosine'].append(float(
                torch.dot(g, g_task) /
                (g.norm() * g_task[mask].norm()).clamp_min(1e-20)))
            stats['value'].append(float(_total(value).detach()))
        distiller.zero_grad(set_to_none=True)
    out: Dict[str, object] = dict(task_norm=statistics.median(task_norms),
                                  batches=len(batches))
    for name, stats in per.items():
        out[name] = {k: statistics.median(v) for k, v in stats.items()}
        out[name]['per_batch'] = stats
    return out


def format_ratios(result: dict, title: Optional[str] = None) -> str:
    """The ratios as a few readable lines."""
    lines = [title] if title else []
    lines.append(f'task-loss gradient norm (median over '
                 f'{result["batches"]} batches): {result["task_norm"]:.4g}')
    for name, stats in result.items():
        if not isinstance(stats, dict):
            continue
        ratio = stats['ratio']
        log10 = math.log10(ratio) if ratio > 0 else float('-inf')
        lines.append(f'{name}: value {stats["value"]:.4g}, gradient norm '
                     f'{stats["norm"]:.4g}, ratio to task {ratio:.4g} '
                     f'(10^{log10:.1f}); on the {100 * stats["reach"]:.1f}% '
                     f'of parameters it reaches: ratio '
                     f'{stats["reach_ratio"]:.4g}, cosine '
                     f'{stats["reach_cosine"]:+.3f}; cosine with task '
                     f'{stats["cosine"]:+.3f}')
    return '\n'.join(lines)
