"""The stage's figures, each a matplotlib Figure handed to the run folder (which saves and hashes it)."""

from __future__ import annotations

import math

import numpy as np

from sla_cli import paper
from sla_cli.plotting import context_indices, grid_ticks, plt, tile

PAPER_RATIO = paper.DISTANCE_RATIO


def decoded_figure(rendered: np.ndarray, decoded: np.ndarray, name: str, source: int):
    """Figure 9: the glyph as each context sees it, beside its source latent decoded by each context."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.4))
    for ax, images, title in (
        (axes[0], rendered, f"'{name}' rendered in each of {len(rendered)} contexts"),
        (axes[1], decoded, f"encoded by context {source} only, decoded by each (masked)"),
    ):
        ax.imshow(tile(np.clip(images, 0, 1)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        context_indices(ax, len(images), images.shape[1:])
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    return fig


def distance_figure(same: np.ndarray, different: np.ndarray, source_label: str):
    """Figures 10-11: the two distance distributions; the paper's one pair only as its ratio (its
    distances are in another latent space's units)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, max(float(different.max()), float(same.max())) * 1.05, 60)
    ax.hist(
        same, bins=bins, alpha=0.6, density=True, label=f"same glyph, source vs other contexts (mean {same.mean():.2f})"
    )
    ax.hist(
        different,
        bins=bins,
        alpha=0.6,
        density=True,
        label=f"different glyphs, same context (mean {different.mean():.2f})",
    )
    ratio = different.mean() / same.mean() if same.mean() > 0 else float("nan")
    ax.set_title(f"ratio different / same: ours {ratio:.2f}, the paper's {PAPER_RATIO}", fontsize=10)
    ax.set_xlabel(f"latent Euclidean distance (source context {source_label})")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="center right")
    return fig


def as_grid(values: np.ndarray) -> np.ndarray:
    """[C] -> a near-square grid (10x10 for 100 contexts), contexts in reading order, NaN padding."""
    cols = math.ceil(math.sqrt(len(values)))
    grid = np.full(cols * math.ceil(len(values) / cols), np.nan)
    grid[: len(values)] = values
    return grid.reshape(-1, cols)


def accuracy_maps_figure(summaries: dict[str, dict[str, dict]]):
    """Per-context accuracy heat maps: a row per method (ours, baselines), a column per protocol."""
    methods = list(summaries)
    protocols = list(summaries[methods[0]])
    fig, axes = plt.subplots(
        len(methods), len(protocols), figsize=(3.6 * len(protocols), 3.3 * len(methods)), squeeze=False
    )
    for i, method in enumerate(methods):
        for j, protocol in enumerate(protocols):
            s = summaries[method][protocol]
            values = np.asarray(s["per_context_accuracy"])
            grid = as_grid(values)
            image = axes[i, j].imshow(grid, cmap="viridis", vmin=0, vmax=1)
            axes[i, j].set_title(f"{method}: {protocol}\nmean {s['mean_accuracy']:.2f} (other contexts)", fontsize=9)
            grid_ticks(axes[i, j], len(values), grid.shape[1])
    fig.colorbar(image, ax=axes, shrink=0.6, label="accuracy (context = row label + column label)")
    return fig


def matrix_figure(matrices: dict[str, np.ndarray]):
    """With every context as the source: accuracy[source, probe context] per protocol."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 4), squeeze=False)
    for ax, (protocol, m) in zip(axes[0], matrices.items(), strict=False):
        image = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"{protocol}: mean {m.mean():.2f}", fontsize=9)
        ax.set_xlabel("probe context")
    axes[0, 0].set_ylabel("source context (prototypes)")
    fig.colorbar(image, ax=axes, shrink=0.7, label="accuracy")
    return fig
