"""Paired comparisons of two classifiers on the same test items: McNemar's test and a paired bootstrap.

Both take boolean "was item i classified correctly" vectors of the two models on the same items, so
each item's difficulty cancels (a paired design): only the items where the two disagree carry
information about which is better.
"""

from __future__ import annotations

import math

import numpy as np


def _correct(v) -> np.ndarray:
    a = np.asarray(v)
    if a.dtype != bool:
        raise ValueError(f"expected booleans (item classified correctly), got {a.dtype}")
    return a


def mcnemar(a_correct, b_correct) -> dict:
    """McNemar's test of "models a and b are equally accurate" on paired items.

    The discordant counts are ``a_only`` (a right, b wrong) and ``b_only`` (a wrong, b right); under
    the null each discordant item is a fair coin. ``p_exact`` is the exact two-sided binomial
    p-value, min(1, 2 P[X <= min(a_only, b_only)]) with X ~ Binomial(a_only + b_only, 1/2): the one
    to quote (valid for any count). ``chi2_cc`` is the continuity-corrected statistic
    (|a_only - b_only| - 1)^2 / (a_only + b_only), with its 1-degree-of-freedom p-value ``p_chi2_cc``,
    for comparison with papers that quote it. No discordant item: p = 1.
    """
    a, b = _correct(a_correct), _correct(b_correct)
    if a.shape != b.shape:
        raise ValueError(f"paired vectors differ in shape: {a.shape} vs {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    n = a_only + b_only
    if n == 0:
        return {"a_only": 0, "b_only": 0, "p_exact": 1.0, "chi2_cc": 0.0, "p_chi2_cc": 1.0}
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1))
    p_exact = min(1.0, 2 * tail / 2**n)  # integer / integer: exact even where 0.5**n underflows
    chi2 = max(abs(a_only - b_only) - 1, 0) ** 2 / n
    return {"a_only": a_only, "b_only": b_only, "p_exact": p_exact, "chi2_cc": chi2,
            "p_chi2_cc": math.erfc(math.sqrt(chi2 / 2))}  # chi-square(1) survival = erfc(sqrt(x / 2))


def paired_bootstrap_difference(a_correct, b_correct, n_boot: int = 2000, seed: int = 0,
                                level: float = 0.95, chunk: int = 200) -> dict:
    """Accuracy of a minus accuracy of b, with a percentile bootstrap interval over the test items.

    ``a_correct`` and ``b_correct`` are [N] (one pair of models) or [K, N] (K seeds' pairs on the same
    N items: the difference is averaged over seeds). Each bootstrap draw resamples the N items with
    replacement, the same draw for both models and every seed (paired), so the interval measures
    how much the difference would move on another test set of the same size; the spread over seeds
    (training randomness) is not in it.
    """
    a, b = _correct(a_correct), _correct(b_correct)
    if a.shape != b.shape or a.ndim not in (1, 2) or a.shape[-1] == 0:
        raise ValueError(f"expected two equal [N] or [K, N] boolean arrays, got {a.shape} and {b.shape}")
    if n_boot < 1 or not 0 < level < 1:
        raise ValueError(f"n_boot={n_boot} must be >= 1 and level={level} in (0, 1)")
    per_item = (a.astype(float) - b.astype(float)).reshape(-1, a.shape[-1]).mean(0)  # [N]
    n = len(per_item)
    rng = np.random.default_rng(seed)
    draws = np.concatenate([per_item[rng.integers(0, n, (min(chunk, n_boot - i), n))].mean(1)
                            for i in range(0, n_boot, chunk)])
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return {"difference": float(per_item.mean()), "low": float(low), "high": float(high),
            "level": level, "n_boot": n_boot, "n_items": n}
