"""Confusion matrices and per-class log-likelihood histograms (first seed), as PNG."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import FuncNorm

from sla_cli.plotting import plt


def confusion_figure(matrices: dict, accuracies: dict):
    fig, axes = plt.subplots(1, len(matrices), figsize=(5.2 * len(matrices), 4.2))
    for ax, (name, m) in zip(np.atleast_1d(axes), matrices.items(), strict=False):
        m = m.numpy()
        # counts on a log scale (the diagonal is ~100x the errors), the colour bar in counts
        norm = FuncNorm((np.log1p, np.expm1), vmin=0, vmax=max(int(m.max()), 1))
        heat = ax.imshow(m, cmap="Blues", norm=norm)
        fig.colorbar(heat, ax=ax, fraction=0.046, pad=0.04, label="test images")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if i == j:  # correct: the count, white on the dark diagonal
                    ax.text(
                        j, i, str(m[i, j]), ha="center", va="center", fontsize=5.5, color="white", fontweight="bold"
                    )
                elif m[i, j]:
                    ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=6, color="crimson")
        ax.set_title(f"{name}: {100 * accuracies[name]:.2f}%")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
    return fig


def loglik_hist_figure(full_loglik: np.ndarray, labels: np.ndarray):
    """For each class autoencoder c: its eq. (4) log-likelihood of class-c test images vs the rest."""
    n = full_loglik.shape[1]
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(3.2 * ((n + 1) // 2), 5.6))
    for c, ax in enumerate(axes.flat[:n]):
        own, other = full_loglik[labels == c, c], full_loglik[labels != c, c]
        lo, hi = np.percentile(np.concatenate([own, other]), [1, 99.5])
        bins = np.linspace(lo, max(hi, lo + 1e-6), 40)
        for values, label in ((other, "other digits"), (own, "own digit")):
            shown = values[(values >= bins[0]) & (values <= bins[-1])]
            if shown.size:  # a tiny test set can leave a class nothing in range: no empty density (0/0)
                ax.hist(shown, bins=bins, alpha=0.6, density=True, label=label)
        ax.set_title(f"autoencoder {c}", fontsize=9)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("log p(x) of eq. (4) under each class autoencoder (test images)")
    return fig
