# Copyright (c) distill3d contributors. All rights reserved.
"""What the teacher's features hold that a student's do not.

For paired feature rows (the same BEV pixels of the same scans on both
sides), a ridge regression from the student's features to the teacher's,
fitted on one half of the scans and scored on the other: the share of the
teacher's feature variance that a linear map of the student's features
explains (held-out R^2). A 1x1-adapter feature term (FitNets, CWD, the
masked variants) can only ask the student for what such a map reaches;
the unexplained rest is what the term pushes the student to add.
"""
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor

from ..models.losses.utils import teacher_confidence

#: ridge strength relative to the mean eigenvalue of the student's Gram
#: matrix (keeps the solve stable on correlated, ReLU-sparse features)
RIDGE = 1e-3


def linear_r2(student: np.ndarray, teacher: np.ndarray,
              train: np.ndarray, ridge: float = RIDGE) -> float:
    """Held-out R^2 of a ridge map from student to teacher features.

    Args:
        student (np.ndarray): (N, C_S) student features.
        teacher (np.ndarray): (N, C_T) teacher features of the same rows.
        train (np.ndarray): (N, ) bool, the rows the map is fitted on; it is
            scored on the others.
        ridge (float): Ridge strength relative to the mean eigenvalue of
            the centred training Gram matrix.

    Returns:
        float: ``1 - SSE / SST`` over all teacher channels of the held-out
        rows (SST around the training mean), i.e. the explained share of
        the teacher's held-out feature variance.
    """
    s = student.astype(np.float64)
    t = teacher.astype(np.float64)
    test = ~train
    if train.sum() < 2 or test.sum() < 1:
        raise ValueError('linear_r2 needs at least 2 training rows and 1 '
                         'held-out row')
    s_mean, t_mean = s[train].mean(0), t[train].mean(0)
    s_tr, t_tr = s[train] - s_mean, t[train] - t_mean
    gram = s_tr.T @ s_tr
    lam = ridge * max(np.trace(gram) / gram.shape[0], 1e-12)
    w = np.linalg.solve(gram + lam * np.eye(gram.shape[0]), s_tr.T @ t_tr)
    pred = (s[test] - s_mean) @ w
    sse = ((t[test] - t_mean - pred)**2).sum()
    sst = ((t[test] - t_mean)**2).sum()
    return float(1.0 - sse / max(sst, 1e-12))


def bev_rows(feats: Tensor, keep: Tensor) -> np.ndarray:
    """(M, C) rows of a (B, C, H, W) map at the (B*H*W, ) ``keep`` mask."""
    c = feats.shape[1]
    rows = feats.detach().float().permute(0, 2, 3, 1).reshape(-1, c)
    return rows[keep].cpu().numpy()


def feature_gap(student: List[Tensor], teacher: List[Tensor],
                masks: Dict[str, List[Tensor]],
                ridge: float = RIDGE) -> Dict[str, dict]:
    """Held-out R^2 of teacher from student features per pixel subset.

    Args:
        student (list[Tensor]): Per scan, (1, C_S, H, W) student features.
        teacher (list[Tensor]): Per scan, (1, C_T, H, W) teacher features.
        masks (dict[str, list[Tensor]]): Per subset name, per scan, a
            (H*W, ) bool mask of the pixels in the subset (e.g. a random
            sample of all pixels, the teacher-confident ones).
        ridge (float): See :func:`linear_r2`.

    Returns:
        dict: per subset, ``r2`` and ``rows`` (pixels used); the first half
        of the scans fits the map, the second half scores it.
    """
    if len(student) != len(teacher) or len(student) < 2:
        raise ValueError('feature_gap needs the same number (>= 2) of '
                         'student and teacher maps')
    half = len(student) // 2
    out = {}
    for name, per_scan in masks.items():
        s_rows, t_rows, split = [], [], []
        for i, (s, t, m) in enumerate(zip(student, teacher, per_scan)):
            s_rows.append(bev_rows(s, m))
            t_rows.append(bev_rows(t, m))
            split.append(np.full(int(m.sum()), i < half))
        train = np.concatenate(split)
        out[name] = dict(
            r2=linear_r2(np.concatenate(s_rows), np.concatenate(t_rows),
                         train, ridge),
            rows=int(train.size))
    return out


def confident_mask(logits: Tensor, threshold: float) -> Tensor:
    """(B*H*W, ) pixels where the largest sigmoid of (B, K, H, W) logits
    exceeds ``threshold`` (the teacher confidence of the object-focused
    terms, :func:`~distill3d.models.losses.utils.teacher_confidence`)."""
    conf = teacher_confidence([logits], logits.shape[-2:])
    return (conf > threshold).reshape(-1)


def random_mask(num: int, count: int,
                generator: Optional[torch.Generator] = None) -> Tensor:
    """(num, ) bool mask with ``min(count, num)`` random entries set."""
    mask = torch.zeros(num, dtype=torch.bool)
    mask[torch.randperm(num, generator=generator)[:count]] = True
    return mask
