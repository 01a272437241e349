# Copyright (c) distill3d contributors. All rights reserved.
"""Data preprocessor of point-cloud classifiers: stack the clouds."""
from typing import Optional

import torch
from mmengine.model import BaseDataPreprocessor

from mmdet3d.registry import MODELS


@MODELS.register_module()
class PointClsDataPreprocessor(BaseDataPreprocessor):
    """Move a classification batch to the device and stack its clouds.

    ``inputs['points']`` arrives as a list of B (N, C) tensors (every
    sample resampled to the same N by the pipeline) and leaves as one
    (B, N, C) float tensor; ``data_samples`` are only moved.

    Args:
        non_blocking (bool): Non-blocking copies. Defaults to False.
    """

    def __init__(self, non_blocking: Optional[bool] = False) -> None:
        super().__init__(non_blocking)

    def forward(self, data: dict, training: bool = False) -> dict:
        """Cast, move and stack.

        Args:
            data (dict): ``inputs`` (dict with ``points``: list of (N, C)
                tensors, or a (B, N, C) tensor) and ``data_samples``.
            training (bool): Unused.

        Returns:
            dict: ``inputs`` with ``points`` (B, N, C) and
            ``data_samples``.
        """
        data = self.cast_data(data)
        inputs = dict(data['inputs'])
        points = inputs['points']
        if isinstance(points, (list, tuple)):
            sizes = {tuple(p.shape) for p in points}
            if len(sizes) != 1:
                raise ValueError(
                    'PointClsDataPreprocessor stacks clouds of equal size; '
                    f'got shapes {sorted(sizes)} (add ClsPointSample to '
                    'the pipeline)')
            points = torch.stack(list(points))
        inputs['points'] = points.float()
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
