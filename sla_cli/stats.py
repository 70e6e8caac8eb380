"""Small statistics shared by the stages: percentile-bootstrap intervals and McNemar's test.

Every accuracy the project reports comes with a 95% interval, and every "ours beats theirs" with an
interval of the paired difference (or McNemar's test) on the same test items. Pure numpy and the
standard library (no scipy); seeded, so the same call gives the same interval.

    bootstrap_mean(values, groups=None)        -> Interval of the mean of per-item values
    bootstrap_paired_difference(a, b, groups)  -> Interval of mean(a - b), items resampled together
    mcnemar(correct_a, correct_b)              -> McNemar: discordant counts and the exact two-sided p

``groups`` makes the bootstrap two-stage (a cluster bootstrap): the groups (e.g. glyph draws, seeds)
are resampled with replacement, then the items within each drawn group. Without it the items are
resampled as one pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

N_BOOT = 2000  # bootstrap resamples: the 2.5% and 97.5% percentiles move by < 0.5 points at this count
LEVEL = 0.95
WORK_ELEMENTS = 2**22  # resample indices drawn per chunk (bounds memory for large test sets)


@dataclass(frozen=True)
class Interval:
    estimate: float  # the statistic on the data as observed
    low: float
    high: float
    level: float = LEVEL

    def as_dict(self, digits: int = 4) -> dict:
        return {
            "estimate": round(self.estimate, digits),
            "low": round(self.low, digits),
            "high": round(self.high, digits),
            "level": self.level,
        }


@dataclass(frozen=True)
class McNemar:
    a_only: int  # items A gets right and B wrong
    b_only: int  # items B gets right and A wrong
    p_value: float  # exact two-sided binomial test of a_only vs b_only (1.0 when there is no discordant item)

    def as_dict(self) -> dict:
        return {"a_only": self.a_only, "b_only": self.b_only, "p_value": round(self.p_value, 6)}


def _as_values(values, name: str = "values") -> np.ndarray:
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError(f"{name} is empty: nothing to bootstrap")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} holds NaN or infinite entries")
    return v


def _pooled_means(v: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    n = len(v)
    step = max(1, WORK_ELEMENTS // n)
    return np.concatenate([v[rng.integers(0, n, (min(step, n_boot - s), n))].mean(1) for s in range(0, n_boot, step)])


def _grouped_means(v: np.ndarray, groups: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Two-stage resample: draw len(ids) groups with replacement, then each drawn group's items."""
    ids = np.unique(groups)
    members = [np.flatnonzero(groups == g) for g in ids]
    drawn = rng.integers(0, len(ids), (n_boot, len(ids)))  # [B, G]: which group fills each slot
    sums, counts = np.zeros(n_boot), np.zeros(n_boot)
    for gi, rows in enumerate(members):
        times = (drawn == gi).sum(1)  # how often each resample drew group gi
        for t in np.unique(times[times > 0]):
            boots = np.flatnonzero(times == t)
            picks = v[rows][rng.integers(0, len(rows), (len(boots), t * len(rows)))]
            sums[boots] += picks.sum(1)
            counts[boots] += t * len(rows)
    return sums / counts


def bootstrap_mean(values, groups=None, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0) -> Interval:
    """Percentile-bootstrap interval of the mean of per-item ``values`` (e.g. 0/1 correctness)."""
    v = _as_values(values)
    if not 0 < level < 1:
        raise ValueError(f"level={level} must be in (0, 1)")
    if n_boot < 1:
        raise ValueError(f"n_boot={n_boot} must be >= 1")
    rng = np.random.default_rng(seed)
    if groups is None:
        means = _pooled_means(v, n_boot, rng)
    else:
        g = np.asarray(groups).ravel()
        if g.shape != v.shape:
            raise ValueError(f"groups has {g.size} entries for {v.size} values")
        means = _grouped_means(v, g, n_boot, rng)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(v.mean()), float(low), float(high), level)


def bootstrap_paired_difference(
    a, b, groups=None, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> Interval:
    """Interval of mean(a) - mean(b) where a[i] and b[i] are two methods on the same item i: the items
    are resampled together, so what the two share (an easy or hard item) cancels."""
    va, vb = _as_values(a, "a"), _as_values(b, "b")
    if va.shape != vb.shape:
        raise ValueError(f"paired values differ in length: {va.size} vs {vb.size}")
    return bootstrap_mean(va - vb, groups, n_boot, level, seed)


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's exact test for two classifiers scored on the same items (boolean arrays)."""
    a, b = np.asarray(correct_a, dtype=bool).ravel(), np.asarray(correct_b, dtype=bool).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired results differ in length: {a.size} vs {b.size}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    return McNemar(a_only, b_only, _binomial_two_sided(min(a_only, b_only), a_only + b_only))


def _binomial_two_sided(k: int, n: int) -> float:
    """2 * P(X <= k) for X ~ Binomial(n, 1/2), k <= n/2, capped at 1; in log space (no overflow)."""
    if n == 0:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2) for i in range(k + 1)]
    top = max(logs)
    return min(1.0, 2 * math.exp(top) * sum(math.exp(x - top) for x in logs))
