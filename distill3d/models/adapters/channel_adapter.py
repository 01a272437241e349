"""Channel adapter: aligns a student feature's width to the teacher's."""
import torch
from mmdet3d.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class ChannelAdapter(nn.Module):
    """A 1x1 projection along the channel axis of any record layout.

    Works on (M, C) voxel/sparse features (channels last) and on (B, C, ...)
    dense maps or point features (channels at dim 1), so one adapter type
    serves every record kind. It belongs to the distiller, never to the
    student.

    Args:
        in_channels (int): Student channels.
        out_channels (int): Teacher channels.
        norm (bool): Add BatchNorm after the projection. Defaults to False.
        act (bool): Add ReLU at the end. Defaults to False.
        identity_init (bool): Start as the identity (weight eye, bias 0;
            needs ``in_channels == out_channels``), so that a student equal
            to its teacher starts at zero loss. Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 norm: bool = False,
                 act: bool = False,
                 identity_init: bool = False):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.proj = nn.Linear(in_channels, out_channels, bias=not norm)
        self.norm = nn.BatchNorm1d(out_channels) if norm else None
        self.act = nn.ReLU(inplace=True) if act else None
        if identity_init:
            if in_channels != out_channels:
                raise ValueError(
                    'ChannelAdapter(identity_init=True) needs in_channels '
                    f'== out_channels, got {in_channels} and {out_channels}')
            with torch.no_grad():
                self.proj.weight.copy_(torch.eye(in_channels))
                if self.proj.bias is not None:
                    self.proj.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """Project channels.

        Args:
            x (Tensor): (M, C_in) or (B, C_in, *spatial).

        Returns:
            Tensor: (M, C_out) or (B, C_out, *spatial).
        """
        if x.dim() == 2:
            y = self.proj(x)
            if self.norm is not None:
                y = self.norm(y)
        else:
            moved = torch.movedim(x, 1, -1)
            y = self.proj(moved)
            if self.norm is not None:
                shape = y.shape
                y = self.norm(y.reshape(-1, shape[-1])).reshape(shape)
            y = torch.movedim(y, -1, 1)
        return self.act(y) if self.act is not None else y
