"""Small scorers with known behaviour, for testing attacks and metrics without training anything."""

from __future__ import annotations

import torch


def linear_classifier(n_classes: int, n_inputs: int, dim: int = 20, seed: int = 0):
    """A random linear scorer ``fn``, inputs ``x`` in [0, 1]^dim, and its own predictions ``y`` as the
    labels (so every input starts correctly classified)."""
    torch.manual_seed(seed)
    w = torch.randn(dim, n_classes)

    def fn(v):
        return v @ w

    x = torch.rand(n_inputs, dim)
    return fn, x, fn(x).argmax(1)
