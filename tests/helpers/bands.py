"""Synthetic classes a working classifier cannot confuse: class c has rows 2c+4 and 2c+5 of the
28 x 28 image bright (0.95), the rest dark (0.03), plus a little noise. For the plumbing of class
models (per-class scores, argmax, AUROC), not for what a model learns from MNIST."""

from __future__ import annotations

import torch

from sla_cli.classify.data import Mnist, Split


def bands(n_per_class: int, seed: int) -> Split:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat_interleave(n_per_class)
    x = torch.full((len(y), 28, 28), 0.03)
    for i, c in enumerate(y.tolist()):
        x[i, 2 * c + 4 : 2 * c + 6] = 0.95
    x = (x + 0.02 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    return Split(x.reshape(len(y), -1), y)


def bands_data() -> Mnist:
    """Training, validation and test splits of 40, 5 and 20 images per class."""
    return Mnist(bands(40, 0), bands(5, 1), bands(20, 2))
