# Copyright (c) distill3d contributors. All rights reserved.
"""How strongly each distillation term pulls on the student.

For a distiller and a few training batches, the gradient of every
``loss_kd_*`` term and of the student's own task losses (their sum) with
respect to the student's parameters: norms, the ratio of each KD term's
norm to the task gradient's, and the cosine between the two. A KD term
whose ratio is ~0.01 barely changes training; one at ~10 drowns the task.

With ``at`` (a student module, e.g. the segmentation head's last layer)
the same gradients are also taken with respect to that module's output,
row by row (a voxel's or a point's vector, a BEV cell's channels): how
hard each term pulls on the rows it reaches, against the task, and how
large those rows are. A term normalised by its input's length (a cosine
affinity) pulls in proportion to ``1 / |row|``, so its strength depends
on the scale of what it is applied to, not only on its weight.
"""
import math
import statistics
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.recorders import make_record


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


def _rows(x: Tensor) -> Tensor:
    """A module output's tensor as (rows, channels): (M, C) as it is, a
    dense (N, C, ...) map with its positions as rows."""
    if x.dim() > 2:
        x = x.transpose(1, -1)
    return x.reshape(-1, x.shape[-1])


def _row_stats(g_term: Tensor, g_task: Tensor, rows: Tensor) -> dict:
    """Per-row gradient norms of a term against the task on the rows the
    term reaches; medians over those rows."""
    term_norm = g_term.norm(dim=1)
    hit = term_norm > 0
    if not hit.any():
        return dict(rows=0.0, row_grad=0.0, task_row_grad=0.0,
                    row_ratio=0.0, row_norm=0.0, row_cosine=0.0,
                    row_agree=0.0)
    term = float(term_norm[hit].median())
    task = float(g_task.norm(dim=1)[hit].median())
    cos = F.cosine_similarity(g_term[hit], g_task[hit], dim=1)
    return dict(rows=float(hit.float().mean()), row_grad=term,
                task_row_grad=task, row_ratio=term / max(task, 1e-30),
                row_norm=float(rows.detach().norm(dim=1)[hit].median()),
                row_cosine=float(cos.median()),
                row_agree=float((cos > 0).float().mean()))


def kd_gradient_ratios(distiller: nn.Module, batches: List[dict],
                       at: Optional[str] = None) -> dict:
    """Gradient norms of every KD term against the task losses.

    The distiller is put in train mode; nothing is updated (the gradients
    are computed with ``torch.autograd.grad``, parameters untouched).

    Args:
        distiller (nn.Module): A :class:`Distiller3D` (not DDP-wrapped).
        batches (list[dict]): Collated training batches.
        at (str, optional): Name of a student module (as in
            ``student.named_modules()``, e.g. ``'decode_head.conv_seg'``).
            Each term's gradient is also taken with respect to its output,
            as (rows, channels) (a sparse tensor's features; a dense
            (N, C, ...) map's positions). Defaults to None.

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
        plus ``per_batch`` lists. With ``at``, also per term:
        ``rows`` (share of the output's rows the term reaches),
        ``row_grad`` (median per-row gradient norm over those rows),
        ``task_row_grad`` (the task's, on the same rows), ``row_ratio``
        (their ratio), ``row_norm`` (median norm of those output rows),
        ``row_cosine`` (median over those rows of the cosine between the
        term's and the task's gradient) and ``row_agree`` (share of those
        rows where it is positive: where a step on the term also lowers
        the task loss).
    """
    distiller.train()
    params = [p for p in distiller.student.parameters() if p.requires_grad]
    per: Dict[str, Dict[str, list]] = {}
    task_norms = []
    captured: Dict[str, Tensor] = {}
    handle = None
    if at is not None:
        modules = dict(distiller.student.named_modules())
        if at not in modules:
            raise KeyError(f'at={at!r} is not a module of the student')
        handle = modules[at].register_forward_hook(
            lambda m, i, o: captured.__setitem__('out', o))
    try:
        for batch in batches:
            _one_batch(distiller, batch, params, per, task_norms, captured,
                       at)
    finally:
        if handle is not None:
            handle.remove()
    out: Dict[str, object] = dict(task_norm=statistics.median(task_norms),
                                  batches=len(batches))
    if at is not None:
        out['at'] = at
    for name, stats in per.items():
        out[name] = {k: statistics.median(v) for k, v in stats.items()}
        out[name]['per_batch'] = stats
    return out


def _one_batch(distiller: nn.Module, batch: dict,
               params: List[nn.Parameter], per: Dict[str, Dict[str, list]],
               task_norms: List[float], captured: Dict[str, Tensor],
               at: Optional[str]) -> None:
    """Adds one batch's gradients to ``per`` and ``task_norms``."""
    data = distiller.data_preprocessor(batch, True)
    losses = distiller(**data, mode='loss')
    task = sum(
        _total(v) for k, v in losses.items()
        if 'loss' in k and not k.startswith(('loss_kd', 'teacher_')))
    g_task = _grad_vector(task, params)
    rows = g_task_rows = None
    if at is not None:
        if 'out' not in captured:
            raise RuntimeError(f'the student module {at!r} did not run')
        # the tensor a KD record of the module would hold: a neck's [map]
        # as its map, a sparse tensor's features
        x = make_record((), captured.pop('out')).tensor
        rows = _rows(x)
        g_task_rows = _rows(torch.autograd.grad(task, x,
                                                retain_graph=True)[0])
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
        if at is not None:
            g_x = torch.autograd.grad(_total(value), x, retain_graph=True,
                                      allow_unused=True)[0]
            g_rows = torch.zeros_like(rows) if g_x is None else _rows(g_x)
            for k, v in _row_stats(g_rows, g_task_rows, rows).items():
                stats.setdefault(k, []).append(v)
    distiller.zero_grad(set_to_none=True)


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
        if 'row_grad' in stats:
            lines.append(
                f'  at {result["at"]}: on the {100 * stats["rows"]:.1f}% of '
                f'rows it reaches (median row norm {stats["row_norm"]:.4g}) '
                f'gradient per row {stats["row_grad"]:.4g}, the task\'s '
                f'{stats["task_row_grad"]:.4g}: ratio '
                f'{stats["row_ratio"]:.4g}, cosine {stats["row_cosine"]:+.3f}'
                f', agrees with the task on {100 * stats["row_agree"]:.1f}% '
                'of them')
    return '\n'.join(lines)
