"""samples.png and curves.png."""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor

from sla_cli.plotting import plt


def grid(images: np.ndarray, cols: int) -> np.ndarray:
    """[N, 784] in [0, 1] -> one image of 28 x 28 tiles with 1-pixel grey gaps."""
    rows = math.ceil(len(images) / cols)
    out = np.full((rows * 29 - 1, cols * 29 - 1), 0.5, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[r * 29:r * 29 + 28, c * 29:c * 29 + 28] = img.reshape(28, 28)
    return out


def samples_figure(samples: Tensor, title: str):
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(grid(samples.float().cpu().numpy(), math.ceil(math.sqrt(len(samples)))), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    return fig


def chains_figure(chains: dict[str, Tensor], every: int):
    """One panel per training scheme: each row a chain from noise, every ``every``-th step left to right."""
    fig, axes = plt.subplots(1, len(chains), figsize=(7 * len(chains), 5), squeeze=False)
    for ax, (name, chain) in zip(axes[0], chains.items(), strict=True):
        steps = chain[every - 1::every]  # [S, N, D]
        s, n = steps.shape[:2]
        ordered = steps.permute(1, 0, 2).reshape(s * n, -1)  # row = one chain
        ax.imshow(grid(ordered.float().cpu().numpy(), s), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: chains from noise, every {every} steps (P(x | x~) means)", fontsize=9)
        ax.axis("off")
    return fig


def curves_figure(curves: dict[str, list[dict]], ylabel: str):
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, rows in curves.items():
        epochs = [r["epoch"] for r in rows]
        prefix = f"{name} " if len(curves) > 1 else ""
        ax.plot(epochs, [r["train_loss"] for r in rows], "-o", ms=3, label=f"{prefix}train (dynamic binarization)")
        ax.plot(epochs, [r["test_loss"] for r in rows], "--s", ms=3,
                label=f"{prefix}test: first density.curve_test_size images (fixed binarization)")
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
