# Copyright (c) distill3d contributors. All rights reserved.
"""Statistics of a study: per-row summaries, paired differences, verdicts.

All numbers in percent points of the metric. A method is compared with
the plain student *of the same seed* (same data, same initialisation
seed, same schedule), so the seed-to-seed spread they share cancels.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from scipy import stats as sps

VERDICTS = ('helps', 'hurts', 'unclear', 'refused')


def summarize(values: Sequence[float]) -> Dict[str, float]:
    """Mean, sample std (ddof 1), min, max, n and 95% t-interval of the
    mean.

    With one value the std is 0 and the interval is that value.
    """
    vals = np.asarray(list(values), dtype=np.float64)
    if vals.size == 0:
        raise ValueError('summarize: no values')
    mean = float(vals.mean())
    std = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
    lo, hi = t_interval(vals)
    return dict(
        n=int(vals.size),
        mean=mean,
        std=std,
        min=float(vals.min()),
        max=float(vals.max()),
        ci95=[lo, hi])


def t_interval(values: Sequence[float],
               confidence: float = 0.95) -> List[float]:
    """Two-sided t-interval of the mean of ``values``.

    ``mean -+ t_{(1+c)/2, n-1} * s / sqrt(n)``; a single value gives a
    zero-width interval (no spread to estimate), reported as such.
    """
    vals = np.asarray(list(values), dtype=np.float64)
    mean = float(vals.mean())
    if vals.size < 2:
        return [mean, mean]
    half = float(
        sps.t.ppf(0.5 + confidence / 2, vals.size - 1) * vals.std(ddof=1) /
        np.sqrt(vals.size))
    return [mean - half, mean + half]


def verdict(ci95: Sequence[float], n: int) -> str:
    """'helps' when the interval lies above 0, 'hurts' below, else
    'unclear' (also with fewer than 2 paired seeds)."""
    if n < 2:
        return 'unclear'
    if ci95[0] > 0:
        return 'helps'
    if ci95[1] < 0:
        return 'hurts'
    return 'unclear'


def paired(method: Dict[str, float], baseline: Dict[str, float]) -> dict:
    """Paired difference method - baseline over the seeds both have.

    Args:
        method (dict): seed -> value of the method row.
        baseline (dict): seed -> value of the plain student.

    Returns:
        dict: ``seeds``, ``diffs``, ``mean``, ``std``, ``ci95`` and
        ``verdict``.
    """
    seeds = sorted(set(method) & set(baseline), key=lambda s: int(s))
    if not seeds:
        raise ValueError('paired: no seed in common')
    diffs = [float(method[s]) - float(baseline[s]) for s in seeds]
    summary = summarize(diffs)
    return dict(
        seeds=[str(s) for s in seeds],
        diffs=diffs,
        mean=summary['mean'],
        std=summary['std'],
        ci95=summary['ci95'],
        verdict=verdict(summary['ci95'], len(diffs)))


def gate(teacher: Optional[float], student_mean: Optional[float],
         margin: float) -> dict:
    """Whether the teacher beats the plain student by ``margin`` points.

    Returns:
        dict: ``passed`` (bool), ``gap`` (teacher - mean plain student or
        None), ``margin`` and ``reason`` (text for the report).
    """
    if teacher is None or student_mean is None:
        missing = 'teacher' if teacher is None else 'plain student'
        return dict(passed=False, gap=None, margin=margin,
                    reason=f'no {missing} result yet')
    gap = float(teacher) - float(student_mean)
    passed = gap >= margin
    reason = (f'teacher {teacher:.2f} - plain student {student_mean:.2f} = '
              f'{gap:+.2f} points, margin {margin:.2f}: ' +
              ('passed' if passed else 'below the margin, the teacher has '
               'too little to teach; no verdict'))
    return dict(passed=passed, gap=gap, margin=margin, reason=reason)
