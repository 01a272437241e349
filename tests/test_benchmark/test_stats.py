"""Study statistics against hand-computed values (issue 12)."""
import math

import pytest

from distill3d.benchmark.stats import gate, paired, summarize, t_interval


def test_summary_by_hand():
    out = summarize([10.0, 12.0, 17.0])
    assert out['mean'] == pytest.approx(13.0)
    # sample std: sqrt(((-3)^2 + (-1)^2 + 4^2) / 2) = sqrt(13)
    assert out['std'] == pytest.approx(math.sqrt(13.0))
    assert (out['min'], out['max'], out['n']) == (10.0, 17.0, 3)
    # t_{0.975, 2} = 4.302653; half width = t * s / sqrt(3)
    half = 4.302653 * math.sqrt(13.0) / math.sqrt(3.0)
    assert out['ci95'] == pytest.approx([13.0 - half, 13.0 + half],
                                        abs=1e-4)


def test_single_value_has_no_spread():
    out = summarize([4.0])
    assert out['std'] == 0.0 and out['ci95'] == [4.0, 4.0]
    with pytest.raises(ValueError):
        summarize([])


def test_paired_differences_and_verdicts():
    student = {'0': 10.0, '1': 14.0, '2': 12.0, '3': 9.0}
    # +2, +1, +3 on the common seeds 0-2 (seed 3 has no method run)
    method = {'0': 12.0, '1': 15.0, '2': 15.0}
    out = paired(method, student)
    assert out['seeds'] == ['0', '1', '2']
    assert out['diffs'] == [2.0, 1.0, 3.0]
    assert out['mean'] == pytest.approx(2.0)
    half = 4.302653 * 1.0 / math.sqrt(3.0)  # s = 1
    assert out['ci95'] == pytest.approx([2.0 - half, 2.0 + half], abs=1e-4)
    # mean +2 but t * s / sqrt(3) = 2.48: the interval holds 0
    assert out['verdict'] == 'unclear'
    steady = paired({'0': 12.0, '1': 16.0, '2': 14.5}, student)
    assert steady['diffs'] == [2.0, 2.0, 2.5]
    s = math.sqrt(1 / 12)  # std of (2, 2, 2.5)
    assert steady['ci95'][0] == pytest.approx(
        13 / 6 - 4.302653 * s / math.sqrt(3), abs=1e-4)
    assert steady['verdict'] == 'helps'
    hurts = paired({'0': 8.0, '1': 12.5, '2': 9.0}, student)
    assert hurts['diffs'] == [-2.0, -1.5, -3.0]
    assert hurts['verdict'] == 'hurts'
    # a large mean gain with a sign flip stays unclear
    flip = paired({'0': 17.0, '1': 13.0, '2': 19.0}, student)
    assert flip['mean'] > 0 and flip['verdict'] == 'unclear'
    # one seed cannot give a verdict
    assert paired({'0': 20.0}, student)['verdict'] == 'unclear'


def test_t_interval_matches_scipy_free_value():
    # n = 5, t_{0.975, 4} = 2.776445
    vals = [1.0, 2.0, 3.0, 4.0, 5.0]
    s = math.sqrt(2.5)
    lo, hi = t_interval(vals)
    assert lo == pytest.approx(3 - 2.776445 * s / math.sqrt(5), abs=1e-5)
    assert hi == pytest.approx(3 + 2.776445 * s / math.sqrt(5), abs=1e-5)


def test_gate():
    ok = gate(20.0, 15.0, 3.0)
    assert ok['passed'] and ok['gap'] == pytest.approx(5.0)
    weak = gate(16.0, 15.0, 3.0)
    assert not weak['passed'] and 'no verdict' in weak['reason']
    assert 'margin 3.00' in weak['reason']
    missing = gate(None, 15.0, 3.0)
    assert not missing['passed'] and 'teacher' in missing['reason']
