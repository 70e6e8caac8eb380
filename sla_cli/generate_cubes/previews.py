"""Preview figures of a dataset: contexts.png (figure 5), masks.png (figure 7), cubes.png (4 and 13)."""

from __future__ import annotations

import numpy as np

from sla_cli.plotting import context_indices, plt, tile


def panels_figure(panels: list[tuple[str, np.ndarray]], pixels_per_cell: int = 4):
    """Titled mosaics stacked vertically in one figure, drawn with nearest-neighbour pixels."""
    heights = [p.shape[0] for _, p in panels]
    width = max(p.shape[1] for _, p in panels)
    scale = pixels_per_cell / 100  # inches per image pixel at dpi 100
    fig, axes = plt.subplots(
        len(panels),
        1,
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
        figsize=(width * scale + 0.4, sum(heights) * scale + 0.45 * len(panels)),
    )
    for ax, (title, image) in zip(axes[:, 0], panels, strict=True):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    return fig


def contexts_figure(images: np.ndarray, n_side: int):
    """One digit in every context [C, H, W] uint8, ten to a row: figure 5."""
    title = f"one digit in {len(images)} contexts: {n_side} side-face, {len(images) - n_side} top-face orientations"
    fig = panels_figure([(title, tile(images / 255.0, 10, fill=0.35, border=True))])
    context_indices(fig.axes[0], len(images), images.shape[1:], cols=10, border=True, fontsize=7)
    return fig


def masks_figure(masks: np.ndarray):
    """The masks [C, H, W] of every context: figure 7."""
    title = f"masks of the {len(masks)} contexts (warp of an all-ones texture)"
    fig = panels_figure([(title, tile(masks, 10, fill=0.35, border=True))])
    context_indices(fig.axes[0], len(masks), masks.shape[1:], cols=10, border=True, fontsize=7)
    return fig


def cubes_figure(panels: list[tuple[str, np.ndarray]], cols: int):
    """Rows of cube images (uint8 [K, H, W]) under titles: samples (figure 4), a turn (figure 13)."""
    return panels_figure([(title, tile(images / 255.0, cols, fill=0.35, border=True)) for title, images in panels])
