# Copyright (c) distill3d contributors. All rights reserved.
"""MLP classification head on a global point-cloud feature."""
from typing import Dict, List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdet3d.registry import MODELS


@MODELS.register_module()
class PointClsHead(nn.Module):
    """Fully connected layers + class logits (PointNet++'s head).

    Hidden layers are Linear -> BN1d -> ReLU -> Dropout; ``fc_cls`` gives
    the logits (the module to record for logit KD).

    Args:
        in_channels (int): Global feature width.
        num_classes (int): Number of classes.
        hidden_channels (Sequence[int]): Hidden widths. Defaults to
            (512, 256).
        dropout (float): Dropout after each hidden layer. Defaults to 0.5.
        label_smoothing (float): Label smoothing of the cross-entropy.
            Defaults to 0.
        loss_weight (float): Weight of ``loss_cls``. Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 hidden_channels: Sequence[int] = (512, 256),
                 dropout: float = 0.5,
                 label_smoothing: float = 0.,
                 loss_weight: float = 1.) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight
        layers: List[nn.Module] = []
        prev = in_channels
        for width in hidden_channels:
            layers += [nn.Linear(prev, width, bias=False),
                       nn.BatchNorm1d(width), nn.ReLU(inplace=True)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            prev = width
        self.mlp = nn.Sequential(*layers)
        self.fc_cls = nn.Linear(prev, num_classes)

    def forward(self, feat: Tensor) -> Tensor:
        """Logits.

        Args:
            feat (Tensor): (B, in_channels) global feature.

        Returns:
            Tensor: (B, num_classes) logits.
        """
        return self.fc_cls(self.mlp(feat))

    @staticmethod
    def gt_labels(data_samples: list) -> Tensor:
        """(B, ) int64 labels of the samples' ``gt_label``."""
        if any('gt_label' not in s for s in data_samples):
            raise KeyError('every data sample needs gt_label (pack with '
                           'PackPointClsInputs)')
        return torch.cat([s.gt_label.reshape(-1) for s in data_samples])

    def loss(self, feat: Tensor, data_samples: list) -> Dict[str, Tensor]:
        """Cross-entropy and (logged, not summed) batch accuracy.

        Args:
            feat (Tensor): (B, in_channels) global feature.
            data_samples (list): B samples with ``gt_label``.

        Returns:
            dict[str, Tensor]: ``loss_cls`` and ``acc_cls``.
        """
        logits = self(feat)
        labels = self.gt_labels(data_samples).to(logits.device)
        loss = F.cross_entropy(logits, labels,
                               label_smoothing=self.label_smoothing)
        acc = (logits.detach().argmax(1) == labels).float().mean()
        return dict(loss_cls=loss * self.loss_weight, acc_cls=acc)

    def predict(self, feat: Tensor, data_samples: list) -> list:
        """Add ``pred_score`` (num_classes, ) and ``pred_label`` (1, ).

        Args:
            feat (Tensor): (B, in_channels) global feature.
            data_samples (list): B samples.

        Returns:
            list: The samples with their predictions.
        """
        scores = self(feat).softmax(1)
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score
            sample.pred_label = score.argmax().reshape(1)
        return data_samples
