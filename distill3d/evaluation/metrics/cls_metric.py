# Copyright (c) distill3d contributors. All rights reserved.
"""Overall and mean class accuracy of point-cloud classification."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmdet3d.registry import METRICS


def class_accuracies(pred: np.ndarray, gt: np.ndarray,
                     num_classes: int) -> np.ndarray:
    """Per-class accuracy (recall); NaN for classes absent from ``gt``.

    Args:
        pred (np.ndarray): (N, ) predicted labels.
        gt (np.ndarray): (N, ) true labels.
        num_classes (int): Number of classes.

    Returns:
        np.ndarray: (num_classes, ) accuracies.
    """
    total = np.bincount(gt, minlength=num_classes).astype(np.float64)
    correct = np.bincount(gt[pred == gt], minlength=num_classes)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 0, correct / np.maximum(total, 1), np.nan)


@METRICS.register_module()
class ClsMetric(BaseMetric):
    """Overall accuracy (OA) and mean class accuracy (mAcc), in percent.

    OA is the share of correctly classified samples; mAcc the mean over
    the classes present in the evaluated set of each class's accuracy
    (ModelNet40 / ScanObjectNN papers report both). Reads ``pred_label``
    and ``gt_label`` of the predicted data samples.

    Args:
        per_class (bool): Also return ``acc/<class>`` for every class.
            Defaults to False (the table is logged either way).
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix.
    """

    default_prefix: Optional[str] = None

    def __init__(self,
                 per_class: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.per_class = per_class

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep (pred, gt) label pairs of the batch."""
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise KeyError('ClsMetric needs gt_label in the samples '
                               '(PackPointClsInputs packs it)')
            self.results.append(
                (int(sample['pred_label'].reshape(-1)[0]),
                 int(sample['gt_label'].reshape(-1)[0])))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """OA and mAcc (percent) of all collected samples."""
        classes = list(self.dataset_meta.get('classes', [])) \
            if self.dataset_meta else []
        pred = np.array([r[0] for r in results], dtype=np.int64)
        gt = np.array([r[1] for r in results], dtype=np.int64)
        num_classes = max(len(classes), int(gt.max()) + 1 if len(gt) else 0,
                          int(pred.max()) + 1 if len(pred) else 0)
        acc = class_accuracies(pred, gt, num_classes)
        metrics = dict(
            overall_acc=float(100 * (pred == gt).mean()) if len(gt) else 0.,
            mean_class_acc=float(100 * np.nanmean(acc))
            if np.isfinite(acc).any() else 0.)
        names = classes + [str(i) for i in range(len(classes), num_classes)]
        cells = [f'{n:>14s} {100 * a:6.2f}' for n, a in zip(names, acc)
                 if np.isfinite(a)]
        rows = ['  '.join(cells[i:i + 4]) for i in range(0, len(cells), 4)]
        MMLogger.get_current_instance().info(
            f'classification of {len(gt)} samples: OA '
            f"{metrics['overall_acc']:.2f}, mAcc "
            f"{metrics['mean_class_acc']:.2f}; accuracy per class:\n" +
            '\n'.join(rows))
        if self.per_class:
            for name, a in zip(names, acc):
                if np.isfinite(a):
                    metrics[f'acc/{name}'] = float(100 * a)
        return metrics
