# Copyright (c) distill3d contributors. All rights reserved.
"""Feature KD at the positions where the teacher is confident."""
from typing import List

from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .utils import fp32, teacher_confidence


@MODELS.register_module()
class TeacherMaskedFeatureLoss(nn.Module):
    """MSE between BEV features where the teacher's heatmaps are confident.

    The distiller passes the teacher's context records (``teacher_context``
    of the term: e.g. the heatmap branches of CenterPoint's task heads,
    (B, K_i, h, w) logits); a pixel counts when the largest
    ``sigmoid(logit)`` over all classes of all context maps exceeds
    ``threshold`` (maps of another size are max-pooled or resized to the
    feature map's). The loss is the squared error of the (adapted) student
    and the teacher features over those pixels, averaged over pixels and
    channels (0 when no pixel counts); the share of counted pixels is
    logged as ``masked``.

    Args:
        threshold (float): Teacher confidence above which a pixel counts.
            Defaults to 0.3.
        loss_weight (float): Weight. Defaults to 1.0.
    """

    #: the distiller passes the ``teacher_context`` records' tensors
    takes_context = True

    def __init__(self, threshold: float = 0.3,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if not 0 <= threshold < 1:
            raise ValueError(f'threshold must be in [0, 1), got {threshold}')
        self.threshold = threshold
        self.loss_weight = loss_weight
        self.log_vars: dict = {}

    def confidence(self, context: List[Tensor], size) -> Tensor:
        """(B, 1, H, W) largest teacher probability per pixel."""
        return teacher_confidence(context, size)

    @fp32
    def forward(self, student: Tensor, teacher: Tensor,
                context: List[Tensor]) -> Tensor:
        """Loss.

        Args:
            student (Tensor): (B, C, H, W) adapted student features.
            teacher (Tensor): (B, C, H, W) teacher features.
            context (list[Tensor]): Teacher heatmap logits, (B, K, h, w)
                each.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if student.dim() != 4 or not context:
            raise ValueError('TeacherMaskedFeatureLoss needs (B, C, H, W) '
                             'features and at least one teacher heatmap')
        mask = (self.confidence(context, student.shape[-2:]) >
                self.threshold).float()
        self.log_vars = dict(masked=mask.mean().detach())
        count = mask.sum() * student.shape[1]
        if count == 0:
            return student.sum() * 0.
        err = (student - teacher.detach()).pow(2) * mask
        return self.loss_weight * err.sum() / count
