# Copyright (c) distill3d contributors. All rights reserved.
"""Headline numbers of mmdet3d's metrics, in percent, per task.

One place that turns an evaluator's raw output into the numbers a table
shows: ``KittiMetric`` -> BEV / 3D AP40 (moderate, strict IoU) and their
mAP; ``SegMetric`` -> mIoU, hard mIoU, per-class IoU; ``ClsMetric`` -> OA
and mAcc.
"""
import math
import re
from typing import Dict, List, Sequence

TASKS = ('det', 'seg', 'cls')


def detection_summary(raw: Dict[str, float],
                      classes: List[str]) -> Dict[str, float]:
    """BEV / 3D AP40 (moderate, KITTI's strict IoU) per class and mAP.

    Args:
        raw (dict): KittiMetric's output (``.../KITTI/Car_3D_AP40_...``).
        classes (list[str]): Class names, in table order.

    Returns:
        dict: ``'BEV mAP'``, ``'3D mAP'``, ``'BEV AP <cls>'`` and
        ``'3D AP <cls>'`` in percent.
    """
    found: Dict[str, float] = {}
    pat = re.compile(r'KITTI/(\w+?)_(3D|BEV)_AP40_moderate_strict$')
    for key, value in raw.items():
        m = pat.search(key)
        if m:
            found[f'{m.group(2)} AP {m.group(1)}'] = float(value)
    out: Dict[str, float] = {}
    for kind in ('BEV', '3D'):
        per_class = [found.get(f'{kind} AP {c}') for c in classes]
        if any(v is None for v in per_class):
            missing = [c for c, v in zip(classes, per_class) if v is None]
            raise KeyError(f'KittiMetric gave no {kind} AP40 for {missing}')
        out[f'{kind} mAP'] = sum(per_class) / len(per_class)
    for kind in ('BEV', '3D'):
        for c in classes:
            out[f'{kind} AP {c}'] = found[f'{kind} AP {c}']
    return out


#: M2SKD's hard classes under mmdet3d's SemanticKITTI names
#: ('bus' is SemanticKITTI's other-vehicle)
HARD_SEG_CLASSES = ('bicycle', 'motorcycle', 'truck', 'bus', 'person',
                    'bicyclist', 'motorcyclist')


def segmentation_summary(raw: Dict[str, float],
                         classes: List[str]) -> Dict[str, float]:
    """mIoU, accuracy and per-class IoU from SegMetric, in percent.

    Classes of :data:`HARD_SEG_CLASSES` are marked ``IoU <name> (hard)``
    and, when the data set has them, averaged into ``hard mIoU``.
    """
    vals = {k.split('/')[-1]: float(v) for k, v in raw.items()}
    if 'miou' not in vals:
        raise KeyError(f'SegMetric gave no miou: {sorted(raw)}')
    out = dict(mIoU=100 * vals['miou'])
    hard = [100 * vals[c] for c in HARD_SEG_CLASSES
            if c in classes and c in vals and not math.isnan(vals[c])]
    if hard:
        out['hard mIoU'] = sum(hard) / len(hard)
    out['Acc'] = 100 * vals['acc']
    for c in classes:
        if c in vals:
            mark = ' (hard)' if c in HARD_SEG_CLASSES else ''
            out[f'IoU {c}{mark}'] = 100 * vals[c]
    return out


def headline_keys(task: str) -> List[str]:
    """The metrics plotted in the bar chart."""
    return dict(det=['BEV mAP', '3D mAP'], seg=['mIoU'],
                cls=['OA', 'mAcc'])[task]


def classification_summary(raw: Dict[str, float],
                           classes: Sequence[str] = ()) -> Dict[str, float]:
    """OA and mAcc (percent) from :class:`ClsMetric`'s output."""
    vals = {k.split('/')[-1]: float(v) for k, v in raw.items()}
    if 'overall_acc' not in vals:
        raise KeyError(f'ClsMetric gave no overall_acc: {sorted(raw)}')
    out = dict(OA=vals['overall_acc'], mAcc=vals['mean_class_acc'])
    for key, value in raw.items():
        if '/acc/' in f'/{key}':
            out[f'Acc {key.split("/")[-1]}'] = float(value)
    return out


def summarize_metrics(task: str, raw: Dict[str, float],
                      classes: Sequence[str]) -> Dict[str, float]:
    """The summary of ``task`` ('det', 'seg' or 'cls') in percent."""
    if task == 'det':
        return detection_summary(raw, list(classes))
    if task == 'seg':
        return segmentation_summary(raw, list(classes))
    if task == 'cls':
        return classification_summary(raw, classes)
    raise ValueError(f'task must be one of {TASKS}, got {task!r}')
