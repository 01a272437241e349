"""Logit knowledge distillation (Hinton et al., 2015)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .utils import fp32


@MODELS.register_module()
class KDLogitLoss(nn.Module):
    """KL divergence between temperature-softened teacher and student logits.

    ``softmax`` mode: classes are mutually exclusive (segmentation,
    classification, softmax detector heads); KL(p_T || p_S) summed over
    classes, averaged over positions. ``sigmoid`` mode: per-class binary
    KL (mmdet3d's sigmoid anchor heads, e.g. PointPillars' ``conv_cls``).
    Both are multiplied by T^2 so gradients keep their scale.

    Args:
        loss_weight (float): Weight. Defaults to 1.0.
        temperature (float): T. Defaults to 1.0.
        mode (str): 'softmax' or 'sigmoid'. Defaults to 'softmax'.
        num_classes (int, optional): Classes per anchor when the channel
            axis packs (anchors x classes), as in anchor heads. Defaults to
            None (the channel axis is the class axis).
    """

    #: the distiller checks that teacher and student class axes agree
    is_logit_loss = True

    def __init__(self,
                 loss_weight: float = 1.0,
                 temperature: float = 1.0,
                 mode: str = 'softmax',
                 num_classes: Optional[int] = None):
        super().__init__()
        if mode not in ('softmax', 'sigmoid'):
            raise ValueError(f"mode must be 'softmax' or 'sigmoid', got "
                             f'{mode!r}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.loss_weight = loss_weight
        self.temperature = temperature
        self.mode = mode
        self.num_classes = num_classes

    def _class_last(self, x: Tensor) -> Tensor:
        """Logits as (positions, classes)."""
        if x.dim() == 2:
            return x
        x = torch.movedim(x, 1, -1)
        classes = self.num_classes or x.shape[-1]
        return x.reshape(-1, classes)

    @fp32
    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Loss.

        Args:
            student (Tensor): (N, C) or (B, C, *spatial) student logits.
            teacher (Tensor): Teacher logits, same shape.

        Returns:
            Tensor: Weighted scalar loss.
        """
        s = self._class_last(student) / self.temperature
        t = self._class_last(teacher.detach()) / self.temperature
        if s.numel() == 0:
            return student.sum() * 0.
        if self.mode == 'softmax':
            loss = F.kl_div(
                F.log_softmax(s, -1), F.log_softmax(t, -1),
                reduction='none', log_target=True).sum(-1).mean()
        else:
            p_t = torch.sigmoid(t)
            loss = (F.binary_cross_entropy_with_logits(
                s, p_t, reduction='none') - F.binary_cross_entropy_with_logits(
                    t, p_t, reduction='none')).mean()
        return self.loss_weight * loss * self.temperature**2
