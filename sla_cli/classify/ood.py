"""Anomaly detection (section 4's last paragraph): can the best class likelihood tell digits from
inputs that are not digits? AUROC of MNIST test images (positive) against each anomaly kind."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from data_gen.glyphs import random_glyphs

KINDS = ("noise", "glyphs", "rotated90", "inverted")


def auroc(positive, negative) -> float:
    """P(score of a random positive > score of a random negative), ties counting one half
    (the Mann-Whitney U statistic with average ranks)."""
    pos = np.asarray(positive, dtype=np.float64).ravel()
    neg = np.asarray(negative, dtype=np.float64).ravel()
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("auroc needs at least one positive and one negative score")
    values = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # 1-based average rank of each tie group
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(pos) * len(neg)))


def anomalies(test_x: Tensor, n: int, seed: int) -> dict[str, Tensor]:
    """n inputs of each kind, as [n, 784] floats in [0, 1] on test_x's device."""
    gen = torch.Generator().manual_seed(seed)
    digits = test_x[:n].reshape(-1, 28, 28)
    glyphs, _ = random_glyphs(n, seed)
    return {
        "noise": torch.rand(n, 784, generator=gen).to(test_x.device),
        "glyphs": torch.from_numpy(glyphs.reshape(n, -1)).float().to(test_x.device) / 255.0,
        "rotated90": torch.rot90(digits, 1, dims=(1, 2)).reshape(len(digits), -1),
        "inverted": 1.0 - digits.reshape(len(digits), -1),
    }
