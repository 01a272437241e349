"""Soft-target statistics of a classification teacher."""
import numpy as np
import pytest

from distill3d.benchmark.soft_targets import (agreement, soft_target_report,
                                              softmax_stats)


def test_uniform_and_confident_softmax():
    labels = np.array([0, 1, 2, 3])
    uniform = softmax_stats(np.zeros((4, 5)), labels)
    assert uniform['entropy'] == pytest.approx(np.log(5))
    assert uniform['max_entropy'] == pytest.approx(np.log(5))
    assert uniform['p_true'] == pytest.approx(0.2)
    confident = softmax_stats(50.0 * np.eye(5)[labels], labels)
    assert confident['accuracy'] == 100.0
    assert confident['p_true'] == pytest.approx(1.0)
    assert confident['entropy'] == pytest.approx(0.0, abs=1e-12)


def test_temperature_flattens_but_keeps_accuracy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 15)) * 3
    labels = rng.integers(0, 15, 200)
    t1, t4 = (softmax_stats(logits, labels, t) for t in (1.0, 4.0))
    assert t1['accuracy'] == t4['accuracy']
    assert t4['entropy'] > t1['entropy']
    assert t4['p_max'] < t1['p_max']
    # a two-class check by hand: logits (2, 0) at T=2 -> softmax(1, 0)
    st = softmax_stats(np.array([[2.0, 0.0]]), np.array([1]), 2.0)
    p = np.exp(1) / (1 + np.exp(1))
    assert st['p_true'] == pytest.approx(1 - p)
    assert st['p_max'] == pytest.approx(p)
    assert st['accuracy'] == 0.0


def test_agreement_shares():
    labels = np.array([0, 0, 1, 1])
    eye = np.eye(2)
    teacher = eye[[0, 0, 0, 1]]  # right, right, wrong, right
    student = eye[[0, 1, 1, 0]]  # right, wrong, right, wrong
    ag = agreement(teacher, student, labels)
    assert ag == dict(both_right=25.0, teacher_only=50.0,
                      student_only=25.0, both_wrong=0.0,
                      same_prediction=25.0)
    with pytest.raises(ValueError, match='same'):
        agreement(teacher, student[:3], labels)


def test_report_and_errors():
    labels = np.array([0, 1])
    rep = soft_target_report(np.eye(2) * 4, labels, (1, 4),
                             dict(s=np.eye(2)[[1, 1]]))
    assert set(rep['teacher']) == {'T=1', 'T=4'}
    assert rep['students']['s']['accuracy'] == 50.0
    assert rep['students']['s']['agreement']['teacher_only'] == 50.0
    with pytest.raises(ValueError, match='temperature'):
        softmax_stats(np.eye(2), labels, 0.0)
    with pytest.raises(ValueError, match=r'\(N, C\)'):
        softmax_stats(np.zeros(2), labels)
