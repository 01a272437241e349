"""FitNets feature distillation (Romero et al., 2015)."""
from mmdet3d.registry import MODELS
from torch import Tensor, nn

from .utils import fp32


@MODELS.register_module()
class FeatureMSELoss(nn.Module):
    """Mean squared error between (adapted) student and teacher features.

    The channel adapter (FitNets' regressor) is the distiller's, configured
    next to the loss with ``adapter=dict(type='ChannelAdapter')``.

    Args:
        loss_weight (float): Weight. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    @fp32
    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Loss.

        Args:
            student (Tensor): Adapted student features, any layout.
            teacher (Tensor): Teacher features, same shape.

        Returns:
            Tensor: Weighted scalar loss.
        """
        if student.numel() == 0:
            return student.sum() * 0.
        return self.loss_weight * (student - teacher.detach()).pow(2).mean()
