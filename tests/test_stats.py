"""sla_cli.stats on data whose right answer is known: degenerate samples, the binomial's textbook
interval, clusters that must widen it, pairs that must narrow it, McNemar's exact p-values."""

import math

import numpy as np
import pytest

from sla_cli import stats


def test_constant_values_give_a_point_interval():
    i = stats.bootstrap_mean(np.full(30, 0.25))
    assert (i.estimate, i.low, i.high) == (0.25, 0.25, 0.25)
    assert stats.bootstrap_mean([1.0]).as_dict() == {"estimate": 1.0, "low": 1.0, "high": 1.0, "level": 0.95}


def test_bernoulli_interval_matches_the_normal_approximation_and_is_seeded():
    rng = np.random.default_rng(1)
    x = rng.random(400) < 0.7
    i = stats.bootstrap_mean(x, seed=3)
    p = x.mean()
    half = 1.96 * math.sqrt(p * (1 - p) / len(x))
    assert i.estimate == pytest.approx(p)
    assert i.low == pytest.approx(p - half, abs=0.012) and i.high == pytest.approx(p + half, abs=0.012)
    assert stats.bootstrap_mean(x, seed=3) == i  # same seed, same interval
    assert stats.bootstrap_mean(x, level=0.5, seed=3).high < i.high  # a 50% interval is narrower


def test_chunked_resampling_gives_the_same_kind_of_interval(monkeypatch):
    x = np.random.default_rng(0).random(300) < 0.4
    whole = stats.bootstrap_mean(x, seed=0)
    monkeypatch.setattr(stats, "WORK_ELEMENTS", 1000)  # 3 resamples per chunk
    chunked = stats.bootstrap_mean(x, seed=0)
    assert abs(chunked.low - whole.low) < 0.03 and abs(chunked.high - whole.high) < 0.03


def test_coverage_of_the_true_mean_is_near_95_percent():
    rng = np.random.default_rng(7)
    hits = 0
    for trial in range(200):
        i = stats.bootstrap_mean(rng.random(120) < 0.8, n_boot=400, seed=trial)
        hits += i.low <= 0.8 <= i.high
    assert 0.88 <= hits / 200 <= 0.99


def test_groups_widen_the_interval_when_the_draws_disagree():
    values = np.r_[np.zeros(50), np.ones(50)]  # draw 0 all wrong, draw 1 all right
    groups = np.r_[np.zeros(50), np.ones(50)]
    pooled = stats.bootstrap_mean(values)
    clustered = stats.bootstrap_mean(values, groups)
    assert pooled.high - pooled.low < 0.25  # 100 independent items: about +-0.1
    assert (clustered.low, clustered.high) == (0.0, 1.0)  # two draws: {0,0}, {0,1} and {1,1} all happen
    same = stats.bootstrap_mean(np.tile([0.0, 1.0], 50), np.repeat([0, 1], 50))  # the draws agree
    assert same.high - same.low < 0.3


def test_unequal_groups_weight_items_not_draws():
    values, groups = np.r_[np.ones(90), np.zeros(10)], np.r_[np.zeros(90), np.ones(10)]
    i = stats.bootstrap_mean(values, groups, seed=0)
    assert i.estimate == 0.9 and i.low <= 0.9 <= i.high


def test_paired_difference_cancels_what_the_items_share():
    rng = np.random.default_rng(2)
    difficulty = rng.normal(0, 5, 200)  # large per-item variation, the same for both methods
    a, b = difficulty + 0.3, difficulty
    paired = stats.bootstrap_paired_difference(a, b)
    assert paired.estimate == pytest.approx(0.3) and paired.high - paired.low < 1e-9
    ia, ib = stats.bootstrap_mean(a), stats.bootstrap_mean(b)
    assert ia.low < ib.high  # unpaired, the two intervals overlap: the difference is lost in the spread


def test_mcnemar_exact_p_values():
    right = np.ones(10, bool)
    m = stats.mcnemar(right, np.r_[np.zeros(6, bool), np.ones(4, bool)])
    assert (m.a_only, m.b_only, m.p_value) == (6, 0, pytest.approx(2 / 64))
    a = np.r_[np.ones(9, bool), np.zeros(1, bool), np.ones(5, bool)]
    b = np.r_[np.zeros(9, bool), np.ones(1, bool), np.ones(5, bool)]
    assert stats.mcnemar(a, b).p_value == pytest.approx(2 * 11 / 1024)  # P(X <= 1), X ~ Bin(10, 1/2)
    assert stats.mcnemar(b, a).p_value == stats.mcnemar(a, b).p_value
    assert stats.mcnemar(right, right).as_dict() == {"a_only": 0, "b_only": 0, "p_value": 1.0}
    far = stats.mcnemar(np.ones(5000, bool), np.r_[np.ones(2500, bool), np.zeros(2500, bool)])
    assert 0 <= far.p_value < 1e-10  # far in the tail: no overflow on 2500 discordant items


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: stats.bootstrap_mean([]), "empty"),
        (lambda: stats.bootstrap_mean([1.0, float("nan")]), "NaN"),
        (lambda: stats.bootstrap_mean([1.0, 2.0], groups=[0]), "groups"),
        (lambda: stats.bootstrap_mean([1.0], level=1.0), "level"),
        (lambda: stats.bootstrap_paired_difference([1.0], [1.0, 2.0]), "length"),
        (lambda: stats.mcnemar([True], [True, False]), "length"),
    ],
)
def test_bad_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
