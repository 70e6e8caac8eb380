"""Classification metrics over logits [N, classes] and labels [N]."""

from __future__ import annotations

import torch
from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    return float((logits.argmax(-1) == y).float().mean())


def confusion(logits: Tensor, y: Tensor, n: int) -> Tensor:
    """Counts [n, n]: row = true class, column = predicted class."""
    return torch.bincount(y * n + logits.argmax(-1), minlength=n * n).reshape(n, n).cpu()
