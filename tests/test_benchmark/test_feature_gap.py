"""Held-out R^2 of teacher features from student features."""
import numpy as np
import pytest
import torch

from distill3d.benchmark.feature_gap import (confident_mask, feature_gap,
                                             linear_r2, random_mask)


def test_linear_r2_by_construction():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(400, 6))
    w = rng.normal(size=(6, 10))
    train = np.arange(400) < 200
    # a linear function of the student: all of it explained
    assert linear_r2(s, s @ w + 3.0, train) == pytest.approx(1.0, abs=1e-4)
    # independent of the student: nothing explained (held out: about 0)
    noise = rng.normal(size=(400, 10))
    assert abs(linear_r2(s, noise, train)) < 0.1
    # half the teacher's variance from the student, half independent
    mixed = s @ w / np.sqrt((s @ w).var(0)) + noise
    assert linear_r2(s, mixed, train) == pytest.approx(0.5, abs=0.1)
    with pytest.raises(ValueError, match='training rows'):
        linear_r2(s, noise, np.zeros(400, dtype=bool))


def test_feature_gap_over_pixel_subsets():
    gen = torch.Generator().manual_seed(0)
    student = [torch.randn(1, 4, 5, 6, generator=gen) for _ in range(6)]
    proj = torch.randn(4, 8, generator=gen)
    teacher = [torch.einsum('bchw,cd->bdhw', s, proj) for s in student]
    # the teacher holds something else on the right half of each map
    for t in teacher:
        t[..., 3:] = torch.randn(1, 8, 5, 3, generator=gen)
    left = torch.zeros(5, 6, dtype=torch.bool)
    left[:, :3] = True
    right = ~left
    masks = dict(left=[left.reshape(-1)] * 6, right=[right.reshape(-1)] * 6)
    gap = feature_gap(student, teacher, masks)
    assert gap['left']['r2'] == pytest.approx(1.0, abs=1e-3)
    assert gap['right']['r2'] < 0.3
    assert gap['left']['rows'] == 6 * 15
    logits = torch.full((1, 2, 5, 6), -5.)
    logits[0, 1, 2, 4] = 2.
    assert confident_mask(logits, 0.3).nonzero().flatten().tolist() == \
        [2 * 6 + 4]
    assert int(random_mask(30, 7).sum()) == 7
    assert int(random_mask(5, 7).sum()) == 5
