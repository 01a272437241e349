"""Channel-wise distillation (Shu et al., ICCV 2021) on dense BEV maps."""
import torch.nn.functional as F
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .utils import fp32


@MODELS.register_module()
class ChannelWiseDistillLoss(nn.Module):
    """KL between per-channel spatial distributions of teacher and student.

    Each channel of a (B, C, H, W) map is turned into a distribution over
    the H*W positions by a softmax at temperature ``tau``; the loss is
    KL(teacher || student) summed over positions, averaged over B*C, times
    tau^2.

    Args:
        tau (float): Temperature. Defaults to 1.0.
        loss_weight (float): Weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight

    @fp32
    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Loss.

        Args:
            student (Tensor): (B, C, H, W) adapted student map.
            teacher (Tensor): (B, C, H, W) teacher map.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if student.dim() != 4:
            raise ValueError('ChannelWiseDistillLoss needs (B, C, H, W) '
                             f'maps, got shape {tuple(student.shape)}')
        if student.numel() == 0:
            return student.sum() * 0.
        b, c = student.shape[:2]
        s = student.reshape(b * c, -1) / self.tau
        t = teacher.detach().reshape(b * c, -1) / self.tau
        loss = F.kl_div(
            F.log_softmax(s, -1), F.log_softmax(t, -1),
            reduction='sum', log_target=True) / (b * c)
        return self.loss_weight * loss * self.tau**2
