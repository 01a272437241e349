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

    and then, by ``pixels``:

    - ``'all'``: summed over every pixel and class and divided by
      ``max(sum p_t, 1)``, the teacher's soft count of object centres, as
      CenterHead's focal loss is divided by its number of positives;
    - ``'teacher'``: each pixel weighted by ``w = max_c p_t`` (the
      teacher's confidence that an object centre is there, detached),
      summed over classes and pixels and divided by ``sum w``: the
      weighted mean over the teacher's confident positions.

    With ``'all'`` most of the value and about half of the gradient come
    from background pixels, where a trained teacher's logits reach -60 (on
    the CenterPoint synthetic KITTI study, pixels with p_t < 0.05 hold 87%
    of the value and 48% of the squared gradient): the term pushes the
    student's background scores to 0, which its own focal loss
    down-weights on purpose. ``'teacher'`` keeps the term on
    the objects; with ``mode='mse'`` it is the soft-masked heatmap KD of
    SparseKD's released CenterPoint configs (which also multiply the
    weight by the ground truth's Gaussian heatmap; we do not, the loss
    sees the two heatmaps only).

    Args:
        temperature (float): T. Defaults to 1.0.
        mode (str): 'kl' or 'mse'. Defaults to 'kl'.
        pixels (str): 'all' or 'teacher' (see above). Defaults to 'all'.
        loss_weight (float): Weight. Defaults to 1.0.
    """

    def __init__(self, temperature: float = 1.0, mode: str = 'kl',
                 loss_weight: float = 1.0, pixels: str = 'all') -> None:
        super().__init__()
        if mode not in ('kl', 'mse'):
            raise ValueError(f"mode must be 'kl' or 'mse', got {mode!r}")
        if pixels not in ('all', 'teacher'):
            raise ValueError(
                f"pixels must be 'all' or 'teacher', got {pixels!r}")
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.mode = mode
        self.pixels = pixels
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
        if self.pixels == 'teacher':
            weight = p_t.amax(dim=1, keepdim=True)
            return self.loss_weight * (per_pixel * weight).sum() / \
                weight.sum().clamp_min(1e-6)
        norm = p_t.sum().clamp_min(1.0)
        return self.loss_weight * per_pixel.sum() / norm
