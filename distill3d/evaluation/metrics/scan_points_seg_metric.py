# Copyright (c) distill3d contributors. All rights reserved.
"""Segmentation metric over the scan's own points of a fused input."""
from typing import Sequence

from mmdet3d.evaluation.metrics import SegMetric
from mmdet3d.registry import METRICS


@METRICS.register_module()
class ScanPointsSegMetric(SegMetric):
    """mmdet3d's ``SegMetric`` over the first ``num_scan_points`` points.

    M2SKD's multi-scan teacher reads the scan plus hard-class points fused
    from earlier scans (:class:`MultiScanHardInstanceFusion` appends them
    after the scan's points and records ``num_scan_points``). Scored on
    that input, the fused points would count twice (they repeat objects of
    the scan); this metric keeps the scan's points only, so the teacher on
    fused scans and a single-scan model are scored on the same points.
    Pack ``num_scan_points`` as a meta key (``Pack3DDetInputs(meta_keys=
    (..., 'num_scan_points'))``); samples without it are scored whole.

    Args:
        **kwargs: ``SegMetric`` arguments.
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Crop predictions and labels to the scan's points, then
        ``SegMetric.process``."""
        cropped = []
        for sample in data_samples:
            n = sample.get('num_scan_points')
            if n is not None:
                sample = dict(sample)
                pred = dict(sample['pred_pts_seg'])
                pred['pts_semantic_mask'] = pred['pts_semantic_mask'][:n]
                sample['pred_pts_seg'] = pred
                ann = dict(sample['eval_ann_info'])
                ann['pts_semantic_mask'] = ann['pts_semantic_mask'][:n]
                sample['eval_ann_info'] = ann
            cropped.append(sample)
        super().process(data_batch, cropped)
