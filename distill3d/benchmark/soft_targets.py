# Copyright (c) distill3d contributors. All rights reserved.
"""What a classification teacher's soft targets hold.

Logit KD (Hinton et al.) asks the student to match the teacher's softmax
at temperature T. Whether that can help depends on what those targets
carry: a teacher that fits only part of its training shapes, or whose
softmax at T is near uniform, turns the term into label smoothing towards
noise. From logits and labels (numpy only, no model) this module reports,
per temperature, the teacher's accuracy, the entropy of its softmax
against the largest possible (``ln C``) and the probability it gives the
true class and its top class; and, per student, how often teacher and
student are right or wrong on the same samples (what the teacher could
teach: samples it gets right and the student does not).
"""
from typing import Dict, Optional, Sequence

import numpy as np
from scipy.special import log_softmax


def softmax_stats(logits: np.ndarray, labels: np.ndarray,
                  temperature: float = 1.0) -> Dict[str, float]:
    """Accuracy and sharpness of a softmax at a temperature.

    Args:
        logits (np.ndarray): (N, C) class logits.
        labels (np.ndarray): (N, ) int true classes.
        temperature (float): Divides the logits before the softmax.

    Returns:
        dict[str, float]: ``accuracy`` (%, argmax, independent of T),
        ``entropy`` (mean over samples, nats), ``max_entropy`` (``ln C``),
        ``p_true`` (mean probability of the true class), ``p_max`` (mean
        probability of the top class), ``num_samples``.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise ValueError(f'logits must be (N, C) with N = len(labels) = '
                         f'{len(labels)}, got {logits.shape}')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    logp = log_softmax(logits / temperature, axis=1)
    p = np.exp(logp)
    rows = np.arange(len(labels))
    return dict(
        accuracy=float(100.0 * (logits.argmax(1) == labels).mean()),
        entropy=float(-(p * logp).sum(1).mean()),
        max_entropy=float(np.log(logits.shape[1])),
        p_true=float(p[rows, labels].mean()),
        p_max=float(p.max(1).mean()),
        num_samples=int(len(labels)))


def agreement(teacher_logits: np.ndarray, student_logits: np.ndarray,
              labels: np.ndarray) -> Dict[str, float]:
    """How often teacher and student are right on the same samples.

    Args:
        teacher_logits (np.ndarray): (N, C) teacher logits.
        student_logits (np.ndarray): (N, C) student logits of the same
            samples.
        labels (np.ndarray): (N, ) true classes.

    Returns:
        dict[str, float]: See :func:`prediction_agreement`.
    """
    return prediction_agreement(
        np.asarray(teacher_logits).argmax(1),
        np.asarray(student_logits).argmax(1), labels)


def prediction_agreement(teacher_pred: np.ndarray, student_pred: np.ndarray,
                         labels: np.ndarray) -> Dict[str, float]:
    """How often teacher and student are right on the same samples.

    Args:
        teacher_pred (np.ndarray): (N, ) teacher predictions (class ids).
        student_pred (np.ndarray): (N, ) student predictions of the same
            samples (points, shapes...).
        labels (np.ndarray): (N, ) true classes.

    Returns:
        dict[str, float]: Shares in % of the samples that ``both_right``,
        ``teacher_only`` (right, the student wrong: what the teacher could
        teach), ``student_only``, ``both_wrong``; ``same_prediction`` (%
        with the same prediction, right or wrong).
    """
    labels = np.asarray(labels).reshape(-1)
    t_pred = np.asarray(teacher_pred).reshape(-1)
    s_pred = np.asarray(student_pred).reshape(-1)
    if t_pred.shape != s_pred.shape or len(t_pred) != len(labels):
        raise ValueError('teacher and student predictions must cover the '
                         f'same {len(labels)} samples, got {t_pred.shape} '
                         f'and {s_pred.shape}')
    t_ok, s_ok = t_pred == labels, s_pred == labels

    def share(mask: np.ndarray) -> float:
        return float(100.0 * mask.mean()) if mask.size else 0.0

    return dict(both_right=share(t_ok & s_ok),
                teacher_only=share(t_ok & ~s_ok),
                student_only=share(~t_ok & s_ok),
                both_wrong=share(~t_ok & ~s_ok),
                same_prediction=share(t_pred == s_pred))


def soft_target_report(teacher_logits: np.ndarray, labels: np.ndarray,
                       temperatures: Sequence[float] = (1.0, 4.0),
                       students: Optional[Dict[str, np.ndarray]] = None
                       ) -> dict:
    """The teacher's softmax at each temperature and its agreement with
    each student, on one set of samples.

    Args:
        teacher_logits (np.ndarray): (N, C) teacher logits.
        labels (np.ndarray): (N, ) true classes.
        temperatures (Sequence[float]): The temperatures to describe.
        students (dict[str, np.ndarray], optional): Name -> (N, C) logits
            of the same samples.

    Returns:
        dict: ``teacher`` -> ``{'T=<t>': softmax_stats}``, and per student
        name ``students[name]`` -> ``{'accuracy', 'agreement'}``.
    """
    out = dict(teacher={
        f'T={t:g}': softmax_stats(teacher_logits, labels, t)
        for t in temperatures
    }, students={})
    for name, logits in (students or {}).items():
        out['students'][name] = dict(
            accuracy=softmax_stats(logits, labels)['accuracy'],
            agreement=agreement(teacher_logits, logits, labels))
    return out
