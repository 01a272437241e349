# Copyright (c) distill3d contributors. All rights reserved.
"""What a trained feature discriminator keys on (FAD).

An adversarial feature term teaches the student only if the
discriminator's verdict carries information: a margin between teacher
("real") and student ("fake") features wide enough that its gradient
points somewhere, and a dependence on *which* sample a feature belongs
to. From the discriminator's logits on both sides, the (normalised)
features it saw and its gradient at the student's features, this module
reports (numpy only):

- ``accuracy`` and ``margin`` (mean real logit minus mean fake logit),
  the generator's non-saturating loss against its chance floor ``ln 2``;
- the per-sample tie: mean cosine between the student's and the
  teacher's feature of the same sample, of a random other sample of the
  same class, and of a random sample of any class;
- how the gradient varies: mean pairwise cosine of the gradient
  directions over samples (1: one direction for every sample, i.e. a
  push of the whole distribution) and within and across classes.
"""
from typing import Dict

import numpy as np


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _mean_pairwise_cosine(x: np.ndarray) -> float:
    """Mean cosine over all ordered pairs i != j of the rows of ``x``."""
    u = _unit(x)
    n = len(u)
    if n < 2:
        return float('nan')
    total = u.sum(0)
    return float((total @ total - n) / (n * (n - 1)))


def _partner(labels: np.ndarray, rng: np.random.Generator,
             same_class: bool) -> np.ndarray:
    """For each sample another sample's index (same class if asked;
    itself only when its class has one sample)."""
    n = len(labels)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        pool = np.flatnonzero(labels == labels[i]) if same_class \
            else np.arange(n)
        pool = pool[pool != i]
        out[i] = rng.choice(pool) if len(pool) else i
    return out


def discriminator_report(real_logits: np.ndarray,
                         fake_logits: np.ndarray,
                         student: np.ndarray,
                         teacher: np.ndarray,
                         student_grad: np.ndarray,
                         labels: np.ndarray,
                         seed: int = 0) -> Dict[str, float]:
    """Margins, per-sample tie and gradient coherence of a discriminator.

    Args:
        real_logits (np.ndarray): (N, ) logits on the teacher's features.
        fake_logits (np.ndarray): (N, ) logits on the student's features.
        student (np.ndarray): (N, C) student features as the discriminator
            sees them (after adapter and normalisation).
        teacher (np.ndarray): (N, C) teacher features of the same samples.
        student_grad (np.ndarray): (N, C) gradient of the fake logits with
            respect to ``student``.
        labels (np.ndarray): (N, ) classes of the samples.
        seed (int): Seed of the random partners.

    Returns:
        dict[str, float]: ``num_samples``, ``accuracy`` (share told apart
        at logit 0), ``margin``, ``real_logit`` / ``fake_logit`` (means),
        ``generator_loss`` (mean softplus(-fake)) and ``chance_loss``
        (``ln 2``), ``cos_same_sample``, ``cos_same_class``,
        ``cos_any_sample``, ``grad_norm`` (median), ``grad_cos_all``,
        ``grad_cos_within_class`` (mean over the classes with two samples
        or more; nan when none has), and
        ``grad_cos_class_means`` (mean pairwise cosine of the classes'
        mean gradient directions).
    """
    real = np.asarray(real_logits, dtype=np.float64).reshape(-1)
    fake = np.asarray(fake_logits, dtype=np.float64).reshape(-1)
    s = _unit(np.asarray(student, dtype=np.float64))
    t = _unit(np.asarray(teacher, dtype=np.float64))
    g = np.asarray(student_grad, dtype=np.float64)
    labels = np.asarray(labels).reshape(-1)
    n = len(labels)
    if not (len(real) == len(fake) == len(s) == len(t) == len(g) == n):
        raise ValueError('logits, features, gradients and labels must '
                         f'cover the same {n} samples')
    rng = np.random.default_rng(seed)
    same = _partner(labels, rng, same_class=True)
    anyj = _partner(labels, rng, same_class=False)
    classes = np.unique(labels)
    # classes with one sample have no pair
    within = [_mean_pairwise_cosine(g[labels == c]) for c in classes
              if (labels == c).sum() > 1]
    means = np.stack([_unit(g[labels == c]).mean(0) for c in classes])
    return dict(
        num_samples=int(n),
        accuracy=float(np.concatenate([real > 0, fake < 0]).mean()),
        margin=float(real.mean() - fake.mean()),
        real_logit=float(real.mean()),
        fake_logit=float(fake.mean()),
        generator_loss=float(np.logaddexp(0., -fake).mean()),
        chance_loss=float(np.log(2.)),
        cos_same_sample=float((s * t).sum(1).mean()),
        cos_same_class=float((s * t[same]).sum(1).mean()),
        cos_any_sample=float((s * t[anyj]).sum(1).mean()),
        grad_norm=float(np.median(np.linalg.norm(g, axis=1))),
        grad_cos_all=_mean_pairwise_cosine(g),
        grad_cos_within_class=float(np.mean(within)) if within
        else float('nan'),
        grad_cos_class_means=_mean_pairwise_cosine(means))
