"""The concept stage's numbers, on plain arrays: rank correlation, a monotone latent-to-angle fit,
and map cosines. numpy only (no scipy in the environment); each has a known-answer test."""

from __future__ import annotations

import numpy as np


def ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of x, ties sharing their mean rank (as Spearman's rho needs)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    sorted_x = x[order]
    # average the ranks over each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends, strict=True):
        if e - s > 1:
            r[order[s:e]] = (s + e - 1) / 2
    return r


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation; 0 when either side is constant."""
    rx, ry = ranks(x), ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt((rx ** 2).sum() * (ry ** 2).sum())
    return float((rx * ry).sum() / den) if den > 0 else 0.0


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
        far = np.abs(angles[i:i + block, None] - angles[None, :]) >= min_deg
        total += float((unit[i:i + block] @ unit.T)[far].sum())
        count += int(far.sum())
    return total / count if count else float("nan")


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) cube indices: a seeded random split, each sorted; both non-empty when n >= 2."""
    order = np.random.default_rng([seed, 12]).permutation(n)
    n_test = min(max(1, int(round(n * test_fraction))), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])
