"""sla_cli.stats' paired tests against values worked out by hand on tiny confusions."""

import math

import numpy as np
import pytest

from sla_cli.stats import mcnemar, paired_bootstrap_difference


def paired(both: int, a_only: int, b_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Correctness vectors of models a and b from the four cells of their 2 x 2 agreement table."""
    a = [True] * both + [True] * a_only + [False] * b_only + [False] * neither
    b = [True] * both + [False] * a_only + [True] * b_only + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_on_a_tiny_confusion_by_hand():
    # 5 both right, a alone right on 3, b alone right on 1, 1 both wrong: n = 4 discordant items.
    # exact: 2 P[X <= 1], X ~ Bin(4, 1/2) = 2 (1 + 4) / 16 = 0.625
    # continuity-corrected: (|3 - 1| - 1)^2 / 4 = 0.25, p = P[chi2_1 > 0.25] = erfc(sqrt(0.125)) = 0.6171
    r = mcnemar(*paired(5, 3, 1, 1))
    assert (r["a_only"], r["b_only"]) == (3, 1)
    assert r["p_exact"] == pytest.approx(0.625)
    assert r["chi2_cc"] == pytest.approx(0.25)
    assert r["p_chi2_cc"] == pytest.approx(0.6171, abs=1e-4)


def test_mcnemar_lopsided_and_symmetric_cases_by_hand():
    r = mcnemar(*paired(0, 10, 0, 0))  # 2 * (1/2)^10 = 1/512; (10 - 1)^2 / 10 = 8.1
    assert r["p_exact"] == pytest.approx(2 / 1024) and r["chi2_cc"] == pytest.approx(8.1)
    assert mcnemar(*paired(7, 2, 2, 1))["p_exact"] == 1.0  # a tie can only give p = 1
    assert mcnemar(*paired(7, 0, 0, 3)) == {"a_only": 0, "b_only": 0, "p_exact": 1.0, "chi2_cc": 0.0,
                                            "p_chi2_cc": 1.0}
    swapped = mcnemar(*paired(5, 1, 3, 1))  # the test is two-sided: swapping the models changes nothing
    assert swapped["p_exact"] == pytest.approx(0.625) and (swapped["a_only"], swapped["b_only"]) == (1, 3)


def test_mcnemar_exact_agrees_with_chi2_at_large_counts_without_underflow():
    r = mcnemar(*paired(8000, 1100, 900, 0))  # 2,000 discordant items: 0.5**2000 would underflow
    assert 0 < r["p_exact"] < 1e-5 and r["p_chi2_cc"] == pytest.approx(r["p_exact"], rel=0.2)
    assert r["chi2_cc"] == pytest.approx(199**2 / 2000)


def test_mcnemar_refuses_unpaired_or_non_boolean_input():
    with pytest.raises(ValueError, match="shape"):
        mcnemar(np.array([True, False]), np.array([True]))
    with pytest.raises(ValueError, match="booleans"):
        mcnemar(np.array([1, 0]), np.array([0, 1]))


def test_bootstrap_interval_of_two_items_by_hand():
    # per-item differences (1, 0): a resample of two items has mean 0, 1/2 or 1 with probability
    # 1/4, 1/2, 1/4, so the 2.5% and 97.5% points are 0 and 1
    a, b = np.array([True, True]), np.array([False, True])
    r = paired_bootstrap_difference(a, b, n_boot=4000, seed=1)
    assert r["difference"] == 0.5 and (r["low"], r["high"]) == (0.0, 1.0)


def test_bootstrap_interval_of_four_items_by_hand():
    # differences (1, 0, 0, 0): the resampled mean is K / 4, K ~ Bin(4, 1/4). P[K <= 0] = 81/256 = 0.316
    # (> 2.5%, so the low end is 0); P[K <= 2] = 243/256 = 0.949 < 0.975 <= P[K <= 3] = 255/256, so the
    # high end is 3/4
    a, b = paired(2, 1, 0, 1)
    r = paired_bootstrap_difference(a, b, n_boot=20000, seed=0)
    assert r["difference"] == 0.25 and (r["low"], r["high"]) == (0.0, 0.75)


def test_bootstrap_of_identical_models_is_a_point_and_of_a_sure_winner_excludes_zero():
    a, _ = paired(30, 0, 0, 10)
    r = paired_bootstrap_difference(a, a, n_boot=500)
    assert (r["difference"], r["low"], r["high"]) == (0.0, 0.0, 0.0)
    r = paired_bootstrap_difference(*paired(900, 80, 20, 0), n_boot=2000)
    assert r["difference"] == pytest.approx(0.06) and 0 < r["low"] < 0.06 < r["high"]


def test_bootstrap_width_matches_the_normal_approximation():
    # differences d_i in {-1, 0, 1}: the mean's standard error is sd(d) / sqrt(N), so a 95% interval is
    # about +- 1.96 of it (bootstrap sd uses the 1/N variance)
    a, b = paired(8000, 600, 400, 1000)
    d = a.astype(float) - b.astype(float)
    half = 1.96 * d.std() / math.sqrt(len(d))
    r = paired_bootstrap_difference(a, b, n_boot=4000, seed=3)
    assert (r["high"] - r["low"]) / 2 == pytest.approx(half, rel=0.08)
    assert r["low"] < 0.02 < r["high"]


def test_bootstrap_over_seeds_averages_each_items_difference_and_is_repeatable():
    a = np.array([[True, True, False, True], [True, False, False, True]])  # two seeds, same four items
    b = np.array([[True, False, False, False], [False, False, True, True]])
    r = paired_bootstrap_difference(a, b, n_boot=300, seed=7)
    assert r["difference"] == pytest.approx(np.mean([0.5, 0.0]))  # seed means 2/4 and 0/4
    assert r == paired_bootstrap_difference(a, b, n_boot=300, seed=7)
    with pytest.raises(ValueError, match="equal"):
        paired_bootstrap_difference(a, b[:1])
