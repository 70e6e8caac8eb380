"""Classification metrics over logits [N, classes] and labels [N]."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def accuracy(logits: Tensor, y: Tensor) -> float:
    return float((logits.argmax(-1) == y).float().mean())


def confusion(logits: Tensor, y: Tensor, n: int) -> Tensor:
    """Counts [n, n]: row = true class, column = predicted class."""
    return torch.bincount(y * n + logits.argmax(-1), minlength=n * n).reshape(n, n).cpu()


def log_prior(y: Tensor, n_classes: int) -> Tensor:
    """log p(class) from the training labels' counts [C] (a class with no image would get -inf: refused)."""
    counts = torch.bincount(y.cpu(), minlength=n_classes).double()
    if (counts == 0).any():
        raise ValueError(f"a class has no training image: counts {counts.long().tolist()}")
    return (counts / counts.sum()).log().float()


def nll(logits: Tensor, y: Tensor) -> float:
    """Mean negative log-likelihood (nats) of the true class under softmax(logits)."""
    return float(F.cross_entropy(logits.double(), y))


def expected_calibration_error(logits: Tensor, y: Tensor, bins: int = 15) -> float:
    """ECE: sum over equal-width confidence bins of (share of images) x |accuracy - mean confidence|,
    where confidence is the top softmax probability (Guo et al. 2017, 15 bins)."""
    probs = torch.softmax(logits.double(), -1)
    conf, pred = probs.max(-1)
    correct = (pred == y).double()
    which = (conf * bins).ceil().clamp(1, bins).long() - 1  # bin b holds (b/bins, (b+1)/bins]
    total = torch.zeros(bins, dtype=torch.float64, device=conf.device)
    gap = total.clone().index_add_(0, which, conf - correct)  # sum of (confidence - correct) per bin
    return float(gap.abs().sum() / len(y))


def calibration(logits: Tensor, y: Tensor) -> dict:
    """What calibration tables show for one model's class probabilities."""
    return {"ece": expected_calibration_error(logits, y), "nll": nll(logits, y)}
