"""The concept stage's numbers, on plain arrays: rank correlation (between a latent and the angle, and
between two maps), bootstrap intervals, a monotone latent-to-angle fit, best-context agreement and
map cosines. numpy only (no scipy in the environment); each has a known-answer test."""

from __future__ import annotations

import numpy as np


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of x, ties sharing their mean rank (as Spearman's rho needs)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    run = np.cumsum(np.r_[True, sorted_x[1:] != sorted_x[:-1]]) - 1  # run id of each sorted value
    mean_rank = np.bincount(run, weights=np.arange(len(x))) / np.bincount(run)  # ties: their mean rank
    r = np.empty(len(x))
    r[order] = mean_rank[run]
    return r


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; 0 when either side is constant."""
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx**2).sum() * (ry**2).sum())
    return float((rx * ry).sum() / den) if den > 0 else 0.0


def bootstrap_ci(stat, *columns: np.ndarray, n_boot: int = 1000, seed: int = 0) -> list[float]:
    """95% percentile interval of ``stat(*columns)`` over test items resampled with replacement
    (the same resample of every column: paired)."""
    n = len(columns[0])
    rng = np.random.default_rng([seed, 7])
    values = [stat(*(c[idx] for c in columns)) for idx in rng.integers(0, n, (n_boot, n))]
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]


def _resampled_ranks(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """ranks(x[idx[b]]) for every row b of idx [B, n] at once, ties (repeated items) sharing their mean rank."""
    _, value = np.unique(x, return_inverse=True)  # equal values share one id, ids in value order
    v = value[idx]  # [B, n]
    b, n = idx.shape
    counts = np.zeros((b, value.max() + 1))
    np.add.at(counts, (np.arange(b)[:, None], v), 1)
    below = np.cumsum(counts, 1) - counts  # items of a smaller value in each resample
    return np.take_along_axis(below + (counts - 1) / 2, v, 1)


def spearman_ci(x: np.ndarray, y: np.ndarray, n_boot: int = 1000, seed: int = 0) -> list[float]:
    """95% percentile interval of Spearman's rho over paired resamples (as ``bootstrap_ci(spearman, x, y)``
    gives, computed for all resamples at once)."""
    idx = np.random.default_rng([seed, 7]).integers(0, len(x), (n_boot, len(x)))
    rx, ry = _resampled_ranks(np.asarray(x), idx), _resampled_ranks(np.asarray(y), idx)
    rx, ry = rx - rx.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    den = np.sqrt((rx**2).sum(1) * (ry**2).sum(1))
    rho = np.where(den > 0, (rx * ry).sum(1) / np.where(den > 0, den, 1), 0.0)
    return [float(v) for v in np.percentile(rho, [2.5, 97.5])]


def mean_ci(values: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict:
    """{"mean", "ci95"} of per-item values, the interval by bootstrap over items."""
    values = np.asarray(values, dtype=np.float64)
    idx = np.random.default_rng([seed, 8]).integers(0, len(values), (n_boot, len(values)))
    return {"mean": float(values.mean()), "ci95": [float(v) for v in np.percentile(values[idx].mean(1), [2.5, 97.5])]}


def rank_vectors(scores: np.ndarray, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Rows [K, C] whose dot product is the Spearman correlation between two cubes' scores, averaged
    over the face groups (a map ranks contexts only within a group, so its order across groups means
    nothing): per group the centred ranks, scaled to norm 1/sqrt(groups). Ties are broken by position
    (raw scores are continuous). Temperature-free: the softmax keeps each group's order."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.zeros_like(scores)
    used = [idx for idx in groups.values() if len(idx) >= 2]  # one context has no order
    for idx in used:
        r = np.argsort(np.argsort(scores[:, idx], axis=1, kind="mergesort"), axis=1, kind="mergesort").astype(float)
        r -= r.mean(1, keepdims=True)
        out[:, idx] = r / np.linalg.norm(r, axis=1, keepdims=True) / np.sqrt(len(used))
    return out


def row_spearman(a: np.ndarray, b: np.ndarray, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Spearman between matching rows of two score arrays [K, C], within each face group, averaged
    over the groups -> [K]."""
    return (rank_vectors(a, groups) * rank_vectors(b, groups)).sum(1)


def best_contexts(scores: np.ndarray, groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each face group's best context per row of scores [K, C] (the map's peak in that group)."""
    return {face: idx[np.argmax(scores[:, idx], 1)] for face, idx in groups.items()}


def best_context_agreement(a: np.ndarray, b: np.ndarray, groups: dict[str, np.ndarray]) -> dict[str, float]:
    """Per face group, the fraction of rows whose best context is the same in a and b [K, C]."""
    ba, bb = best_contexts(a, groups), best_contexts(b, groups)
    return {face: float((ba[face] == bb[face]).mean()) for face in groups}


def best_context_correct(scores: np.ndarray, groups: dict[str, np.ndarray], truth: np.ndarray) -> dict[str, float]:
    """Per face group, the fraction of cubes whose best context is a context one of its faces truly
    falls in (truth [K, 3]: top, side A, side B; -1 = hidden)."""
    best = best_contexts(scores, groups)
    slots = {"top": truth[:, :1], "side": truth[:, 1:]}
    return {face: float((best[face][:, None] == slots[face]).any(1).mean()) for face in groups if face in slots}


def isotonic(y: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest to y in least squares (pool adjacent violators)."""
    values, weights, counts = [], [], []
    for v in np.asarray(y, dtype=np.float64):
        values.append(v), weights.append(1.0), counts.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            w = weights[-2] + weights[-1]
            values[-2] = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
            weights[-2], counts[-2] = w, counts[-2] + counts[-1]
            del values[-1], weights[-1], counts[-1]
    return np.repeat(values, counts)


class MonotoneFit:
    """angle = f(latent), f monotone (increasing or decreasing, whichever the training cubes' rank
    correlation says), fitted by isotonic regression and linearly interpolated between the training
    latents; clamped to the fitted range outside them."""

    def __init__(self, latent: np.ndarray, angle: np.ndarray):
        order = np.argsort(latent, kind="mergesort")
        self.x = np.asarray(latent, dtype=np.float64)[order]
        y = np.asarray(angle, dtype=np.float64)[order]
        self.sign = 1.0 if spearman(self.x, y) >= 0 else -1.0
        self.y = self.sign * isotonic(self.sign * y)

    def __call__(self, latent: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(latent, dtype=np.float64), self.x, self.y)

    def state(self) -> dict:
        return {"latent": self.x.tolist(), "angle": self.y.tolist(), "sign": self.sign}


def mean_cosine_far_apart(maps: np.ndarray, angles: np.ndarray, min_deg: float, block: int = 1024) -> float:
    """Mean cosine over all pairs of maps [K, C] whose angles differ by at least ``min_deg``
    (``block`` rows at a time: the paper's ten thousand held-out cubes make 10^8 pairs)."""
    unit = maps / np.maximum(np.linalg.norm(maps, axis=1, keepdims=True), 1e-12)
    total, count = 0.0, 0
    for i in range(0, len(unit), block):
        far = np.abs(angles[i : i + block, None] - angles[None, :]) >= min_deg
        total += float((unit[i : i + block] @ unit.T)[far].sum())
        count += int(far.sum())
    return total / count if count else float("nan")
