# Copyright (c) distill3d contributors. All rights reserved.
"""Heatmap KD for center-based heads (CenterPoint's ``CenterHead``)."""
import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .utils import fp32


@MODELS.register_module()
class CenterHeatmapKDLoss(nn.Module):
    """The student's center heatmap against the teacher's softened one.

    Record a task head's heatmap branch on both sides (e.g.
    ``pts_bbox_head.task_heads.0.heatmap``: (B, C, H, W) logits). With
    ``p = sigmoid(z / T)`` per pixel and class:

    - ``mode='kl'``: the Bernoulli KL divergence
      ``p_t log(p_t / p_s) + (1 - p_t) log((1 - p_t) / (1 - p_s))``;
    - ``mode='mse'``: ``(p_s - p_t)^2``;

    summed over pixels and classes and divided by ``max(sum p_t, 1)``, the
    teacher's soft count of object centres, as CenterHead's focal loss is
    divided by its number of positives: the term keeps its scale however
    large the (mostly empty) map is.

    Args:
        temperature (float): T. Defaults to 1.0.
        mode (str): 'kl' or 'mse'. Defaults to 'kl'.
        loss_weight (float): Weight. Defaults to 1.0.
    """

    def __init__(self, temperature: float = 1.0, mode: str = 'kl',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if mode not in ('kl', 'mse'):
            raise ValueError(f"mode must be 'kl' or 'mse', got {mode!r}")
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.mode = mode
        self.loss_weight = loss_weight

    @fp32
    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Loss.

        Args:
            student (Tensor): (B, C, H, W) student heatmap logits.
            teacher (Tensor): Teacher logits, same shape.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if student.shape != teacher.shape:
            raise ValueError(
                f'CenterHeatmapKDLoss: student heatmap '
                f'{tuple(student.shape)} and teacher heatmap '
                f'{tuple(teacher.shape)} differ (same classes per task and '
                'the same output grid are needed)')
        s = student / self.temperature
        t = teacher.detach() / self.temperature
        p_t = torch.sigmoid(t)
        if self.mode == 'kl':
            # KL(Bern(p_t) || Bern(p_s)) from logits, numerically stable
            per_pixel = F.binary_cross_entropy_with_logits(
                s, p_t, reduction='none') - F.binary_cross_entropy_with_logits(
                    t, p_t, reduction='none')
        else:
            per_pixel = (torch.sigmoid(s) - p_t).pow(2)
        norm = p_t.sum().clamp_min(1.0)
        return self.loss_weight * per_pixel.sum() / norm
