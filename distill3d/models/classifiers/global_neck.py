# Copyright (c) distill3d contributors. All rights reserved.
"""Necks that turn a point backbone's output into one global feature."""
from typing import Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from torch import Tensor, nn

from mmdet3d.registry import MODELS


@MODELS.register_module()
class PointNetGlobalSA(nn.Module):
    """PointNet++'s last, group-all set abstraction as a neck.

    Reads the last level of a PointNet++ backbone (mmdet3d's
    ``PointNet2SASSG`` / ``PointNet2SAMSG`` output ``sa_xyz[-1]`` (B, M, 3)
    and ``sa_features[-1]`` (B, C, M)), applies a shared MLP to
    ``[xyz, features]`` of every point and max-pools over the points.
    (mmdet3d's SA modules cannot group all points inside those backbones:
    their index bookkeeping needs sampled points.)

    Args:
        in_channels (int): C, feature channels of the last level.
        mlp_channels (Sequence[int]): Widths of the shared MLP; the last
            one is the global feature width.
        use_xyz (bool): Concatenate xyz to the features. Defaults to True.
        norm_cfg (dict): Norm layer. Defaults to BN1d.
    """

    def __init__(self,
                 in_channels: int,
                 mlp_channels: Sequence[int] = (256, 512, 1024),
                 use_xyz: bool = True,
                 norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN1d')
        self.use_xyz = use_xyz
        self.out_channels = int(mlp_channels[-1])
        layers = []
        prev = in_channels + (3 if use_xyz else 0)
        for width in mlp_channels:
            layers.append(
                ConvModule(prev, width, 1, conv_cfg=dict(type='Conv1d'),
                           norm_cfg=norm_cfg, bias=False))
            prev = width
        self.mlp = nn.Sequential(*layers)

    def forward(self, feats: dict) -> Tensor:
        """Global feature.

        Args:
            feats (dict): Backbone output with ``sa_xyz`` and
                ``sa_features`` lists.

        Returns:
            Tensor: (B, out_channels) global feature.
        """
        features = feats['sa_features'][-1]
        if self.use_xyz:
            xyz = feats['sa_xyz'][-1].transpose(1, 2)
            features = xyz if features is None else torch.cat(
                [xyz, features], 1)
        return self.mlp(features).max(dim=2).values


@MODELS.register_module()
class GlobalPoolNeck(nn.Module):
    """Global pooling of per-point features (e.g. mmdet3d's DGCNN
    ``fa_points``).

    Args:
        in_channels (int): Per-point channels C.
        in_key (str): Key of the backbone output dict. Defaults to
            'fa_points'.
        layout (str): 'BNC' or 'BCN' layout of that tensor. Defaults to
            'BNC'.
        pool (str): 'max', 'avg' or 'max_avg' (concatenated, 2C out).
            Defaults to 'max'.
    """

    def __init__(self,
                 in_channels: int,
                 in_key: str = 'fa_points',
                 layout: str = 'BNC',
                 pool: str = 'max') -> None:
        super().__init__()
        if layout not in ('BNC', 'BCN'):
            raise ValueError(f"layout must be 'BNC' or 'BCN', got {layout!r}")
        if pool not in ('max', 'avg', 'max_avg'):
            raise ValueError(f"pool must be 'max', 'avg' or 'max_avg', got "
                             f'{pool!r}')
        self.in_key = in_key
        self.layout = layout
        self.pool = pool
        self.out_channels = in_channels * (2 if pool == 'max_avg' else 1)

    def forward(self, feats) -> Tensor:
        """(B, out_channels) pooled feature of ``feats[in_key]``."""
        x = feats[self.in_key] if isinstance(feats, dict) else feats
        if self.layout == 'BNC':
            x = x.transpose(1, 2)
        pooled = []
        if self.pool in ('max', 'max_avg'):
            pooled.append(x.max(dim=2).values)
        if self.pool in ('avg', 'max_avg'):
            pooled.append(x.mean(dim=2))
        return torch.cat(pooled, 1)
