"""sla_cli.stats as classify's paired comparisons use it, against values worked out by hand on tiny
confusions (tests/test_stats.py covers the module's general behaviour)."""

import numpy as np
import pytest

from sla_cli.stats import bootstrap_paired_difference, mcnemar


def paired(both: int, a_only: int, b_only: int, neither: int) -> tuple[np.ndarray, np.ndarray]:
    """Correctness vectors of models a and b from the four cells of their 2 x 2 agreement table."""
    a = [True] * both + [True] * a_only + [False] * b_only + [False] * neither
    b = [True] * both + [False] * a_only + [True] * b_only + [False] * neither
    return np.array(a), np.array(b)


def test_mcnemar_on_a_tiny_confusion_by_hand():
    # 5 both right, a alone right on 3, b alone right on 1, 1 both wrong: 4 discordant items.
    # exact two-sided: 2 P[X <= 1], X ~ Bin(4, 1/2) = 2 (1 + 4) / 16 = 0.625
    m = mcnemar(*paired(5, 3, 1, 1))
    assert (m.a_only, m.b_only, m.p_value) == (3, 1, pytest.approx(0.625))
    assert mcnemar(*paired(0, 10, 0, 0)).p_value == pytest.approx(2 / 1024)  # 2 (1/2)^10
    assert mcnemar(*paired(7, 2, 2, 1)).p_value == 1.0  # a tie can only give p = 1


def test_bootstrap_interval_of_two_items_by_hand():
    # per-item differences (1, 0): a resample of two items has mean 0, 1/2 or 1 with probability
    # 1/4, 1/2, 1/4, so the 2.5% and 97.5% points are 0 and 1
    i = bootstrap_paired_difference(np.array([True, True]), np.array([False, True]), n_boot=4000, seed=1)
    assert (i.estimate, i.low, i.high) == (0.5, 0.0, 1.0)


def test_bootstrap_interval_of_four_items_by_hand():
    # differences (1, 0, 0, 0): the resampled mean is K / 4, K ~ Bin(4, 1/4). P[K = 0] = 81/256 = 0.316
    # (> 2.5%: the low end is 0); P[K <= 2] = 243/256 = 0.949 < 0.975 <= P[K <= 3] = 255/256: the
    # high end is 3/4
    i = bootstrap_paired_difference(*paired(2, 1, 0, 1), n_boot=20000, seed=0)
    assert (i.estimate, i.low, i.high) == (0.25, 0.0, 0.75)


def test_seeds_averaged_per_item_before_resampling_pair_every_seed_on_the_same_image():
    # two seeds, the same four test images: classify averages each image's correctness over seeds,
    # then resamples images, so a resampled image counts for every seed's pair at once
    a = np.array([[True, True, False, True], [True, False, False, True]])
    b = np.array([[True, False, False, False], [False, False, True, True]])
    i = bootstrap_paired_difference(a.mean(0), b.mean(0), n_boot=20000, seed=0)
    assert i.estimate == pytest.approx(np.mean([2 / 4, 0 / 4]))  # the mean of the two seeds' differences
    # per-image differences (1/2, 1/2, -1/2, 1/2): a resample of 4 has mean (4 - 2J) / 8 with J ~ Bin(4, 1/4)
    # minus-halves drawn: J = 4 (mean -1/2) has 1/256 < 2.5%, J <= 3 has 255/256, P[J = 3] = 12/256 = 4.7%
    # -> low end -1/4; J = 0 (mean 1/2) has 81/256 > 2.5% -> high end 1/2
    assert (i.low, i.high) == (-0.25, 0.5)
