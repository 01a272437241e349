# Copyright (c) distill3d contributors. All rights reserved.
"""Point-cloud classifier with mmdet3d's forward contract."""
from typing import Dict, List, Optional, Union

from mmengine.model import BaseModel
from torch import Tensor

from mmdet3d.registry import MODELS


@MODELS.register_module()
class PointClassifier(BaseModel):
    """Backbone -> global-feature neck -> classification head.

    ``forward(inputs, data_samples, mode)`` follows mmdet3d's models:
    ``inputs['points']`` is a (B, N, C) tensor after the data preprocessor
    (:class:`PointClsDataPreprocessor`), ``data_samples`` are
    :class:`Det3DDataSample` with ``gt_label`` (1, ) int64; 'loss' returns
    ``loss_cls`` (and the logged batch accuracy ``acc_cls``), 'predict' adds
    ``pred_score`` (num_classes, ) and ``pred_label`` (1, ) to the samples,
    'tensor' returns the (B, num_classes) logits.

    The backbone is any point backbone of mmdet3d's registry (e.g.
    ``PointNet2SASSG``, ``PointNet2SAMSG``, ``DGCNNBackbone``); the neck
    turns its output into a (B, C) global feature (``PointNetGlobalSA``,
    ``GlobalPoolNeck``): the tensor feature distillation reads (record
    ``neck``), logits are the output of ``head.fc_cls``.

    Args:
        backbone (dict): Backbone config.
        neck (dict): Global-feature neck config.
        head (dict): Head config (``PointClsHead``).
        data_preprocessor (dict, optional): Defaults to
            ``PointClsDataPreprocessor``.
        train_cfg (dict, optional): Unused (accepted for mmdet3d tools).
        test_cfg (dict, optional): Unused.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor
            or dict(type='PointClsDataPreprocessor'),
            init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.head = MODELS.build(head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg

    def extract_feat(self, inputs: dict) -> Tensor:
        """Global feature.

        Args:
            inputs (dict): ``points`` (B, N, C).

        Returns:
            Tensor: (B, C_global).
        """
        return self.neck(self.backbone(inputs['points']))

    def forward(self,
                inputs: dict,
                data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], list,
                                               Tensor]:
        """mmdet3d's forward contract.

        Args:
            inputs (dict): ``points`` (B, N, C).
            data_samples (list, optional): Det3DDataSample list.
            mode (str): 'loss', 'predict' or 'tensor'.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}"; valid: loss, predict, '
                           'tensor')

    def loss(self, inputs: dict, data_samples: list) -> Dict[str, Tensor]:
        """Cross-entropy loss."""
        return self.head.loss(self.extract_feat(inputs), data_samples)

    def predict(self, inputs: dict, data_samples: list) -> List:
        """Samples with ``pred_score`` / ``pred_label``."""
        return self.head.predict(self.extract_feat(inputs), data_samples)

    def _forward(self, inputs: dict,
                 data_samples: Optional[list] = None) -> Tensor:
        """(B, num_classes) logits."""
        return self.head(self.extract_feat(inputs))
