# Copyright (c) distill3d contributors. All rights reserved.
"""Bird's-eye-view pictures of a validation frame."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmdet3d.registry import MODELS
from ..engine import build_distill_cfg
from ..models.losses.point_distiller import (PointDistillerLoss,
                                             record_nodes, voxel_centres)

# colour per drawn box set (ground truth first)
BOX_STYLES = (
    dict(color='#2ca02c', linestyle='-', linewidth=1.8),
    dict(color='#1f77b4', linestyle='-', linewidth=1.2),
    dict(color='#ff7f0e', linestyle='--', linewidth=1.2),
    dict(color='#d62728', linestyle='-', linewidth=1.2),
    dict(color='#9467bd', linestyle=':', linewidth=1.2),
)


def bev_footprints(boxes) -> np.ndarray:
    """(N, 4, 2) BEV corners of mmdet3d LiDAR boxes (bottom face)."""
    if len(boxes) == 0:
        return np.zeros((0, 4, 2))
    corners = boxes.corners.detach().cpu().numpy()
    return corners[:, [0, 3, 7, 4], :2]


def pointdistiller_nodes(config: str, batch: dict,
                         teacher_ckpt: Optional[str] = None
                         ) -> Optional[Dict[str, np.ndarray]]:
    """The top-N nodes PointDistiller weights on one frame, and weights.

    Builds the distiller of a distillation config (its teacher loaded from
    ``teacher_ckpt`` or the config's), runs the teacher on ``batch`` and
    applies the first :class:`PointDistillerLoss` term's importance and
    top-N selection to the teacher's record.

    Args:
        config (str): Distillation config with a PointDistiller term.
        batch (dict): One collated frame.
        teacher_ckpt (str, optional): Override the config's teacher_ckpt.

    Returns:
        dict or None: ``xy`` (N, 2) node centres in metres and ``weight``
        (N, ) (they sum to N); None when the config has no PointDistiller
        term or its record has no geometry.
    """
    cfg = Config.fromfile(config)
    if teacher_ckpt is not None:
        cfg.teacher_ckpt = teacher_ckpt
    cfg = build_distill_cfg(cfg)
    distiller = MODELS.build(cfg.model)
    distiller.eval()
    names = [
        n for n, c in cfg.model.distill_losses.items()
        if c.get('type') in ('PointDistillerLoss', PointDistillerLoss)
    ]
    if not names:
        return None
    loss = distiller.distill_loss(names[0])
    record = distiller.teacher_records(batch)[names[0]]
    feats, batch_idx = record_nodes(record)
    keep, weight = loss.select(loss.importance(feats, record.num_points),
                               batch_idx)
    if record.kind == 'voxel' and record.coors is not None:
        layer = distiller.teacher.data_preprocessor.voxel_layer
        xyz = voxel_centres(record.coors[keep], layer.voxel_size,
                            layer.point_cloud_range)
    elif record.xyz is not None:
        xyz = record.xyz.reshape(-1, 3)[keep]
    else:
        return None
    return dict(
        xy=xyz[:, :2].detach().cpu().numpy(),
        weight=weight.detach().cpu().numpy())


def predict_boxes(model: torch.nn.Module, batch: dict,
                  score_thr: float) -> np.ndarray:
    """BEV footprints of a detector's predictions above ``score_thr``."""
    model.eval()
    with torch.no_grad():
        (sample, ) = model.test_step(batch)
    pred = sample.pred_instances_3d
    keep = pred.scores_3d >= score_thr
    return bev_footprints(pred.bboxes_3d[keep])


def draw_bev(path: str,
             points: np.ndarray,
             box_sets: Dict[str, np.ndarray],
             point_cloud_range: Sequence[float],
             nodes: Optional[Dict[str, np.ndarray]] = None,
             title: str = '',
             size_px: int = 1200) -> None:
    """Write a BEV PNG: points, weighted nodes and box outlines.

    Args:
        path (str): Output PNG.
        points (np.ndarray): (P, >=2) LiDAR points.
        box_sets (dict[str, np.ndarray]): Legend label -> (N, 4, 2)
            footprints, drawn in order with :data:`BOX_STYLES`.
        point_cloud_range (Sequence[float]): x/y limits of the picture.
        nodes (dict, optional): :func:`pointdistiller_nodes` output.
        title (str): Picture title.
        size_px (int): Width and height in pixels.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    dpi = 100
    fig, ax = plt.subplots(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    x0, y0, _, x1, y1, _ = point_cloud_range
    sel = (points[:, 0] >= x0) & (points[:, 0] <= x1) & \
        (points[:, 1] >= y0) & (points[:, 1] <= y1)
    ax.scatter(points[sel, 0], points[sel, 1], s=0.6, c='#7f7f7f',
               linewidths=0)
    handles: List = []
    if nodes is not None and len(nodes['weight']):
        w = nodes['weight']
        order = np.argsort(w)
        top = np.log10(w.max())
        # weights below 1e-6 of the largest are drawn at the bottom colour
        logw = np.clip(np.log10(np.maximum(w, 1e-30)), top - 6, top)
        big = w[order] >= 1e-3 * w.max()
        sc = ax.scatter(nodes['xy'][order, 0], nodes['xy'][order, 1],
                        s=np.where(big, 40, 9), c=logw[order],
                        cmap='plasma', vmin=top - 6, vmax=top, marker='s',
                        linewidths=0, alpha=0.85)
        fig.colorbar(sc, ax=ax, fraction=0.04, pad=0.01,
                     label='log10 PointDistiller weight (top-N pillars)')
        share = np.cumsum(np.sort(w)[::-1]) / w.sum()
        n99 = int(np.searchsorted(share, 0.99) + 1)
        handles.append(Line2D(
            [0], [0], marker='s', linestyle='', color='#f0f921',
            label=f'top-{len(w)} PointDistiller pillars: 99% of the weight '
            f'on {n99}'))
    for (label, boxes), style in zip(box_sets.items(), BOX_STYLES):
        for poly in boxes:
            closed = np.vstack([poly, poly[:1]])
            ax.plot(closed[:, 0], closed[:, 1], **style)
        handles.append(Line2D([0], [0], label=f'{label} ({len(boxes)})',
                              **style))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect('equal')
    ax.set_xlabel('x (m, forward)')
    ax.set_ylabel('y (m, left)')
    ax.legend(handles=handles, loc='upper right', fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def frame_batch(dataset, index: int) -> dict:
    """One collated test frame of ``dataset``."""
    return pseudo_collate([dataset[index]])
