"""Preview figures of a dataset: contexts.png (figure 5), masks.png (figure 7), cubes.png (4 and 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sla_cli.plotting import plt, save_figure


def mosaic(images: np.ndarray, cols: int, gap: int = 1, fill: float = 0.35) -> np.ndarray:
    """Tile images [K, H, W] (values in 0..1) row by row, with thin grey gaps so black frames separate."""
    k, h, w = images.shape
    rows = -(-k // cols)
    out = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap), fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[gap + r * (h + gap):gap + r * (h + gap) + h, gap + c * (w + gap):gap + c * (w + gap) + w] = img
    return out


def panels_png(path: Path, panels: list[tuple[str, np.ndarray]], pixels_per_cell: int = 4) -> None:
    """Stack titled mosaics vertically in one PNG, drawn with nearest-neighbour pixels."""
    heights = [p.shape[0] for _, p in panels]
    width = max(p.shape[1] for _, p in panels)
    scale = pixels_per_cell / 100  # inches per image pixel at dpi 100
    fig, axes = plt.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": heights},
                             figsize=(width * scale + 0.4, sum(heights) * scale + 0.45 * len(panels)))
    for ax, (title, image) in zip(axes[:, 0], panels):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    save_figure(fig, path, tight=False)


def contexts_png(path: Path, images: np.ndarray, n_side: int) -> None:
    """One digit in every context [C, H, W] uint8, ten to a row: figure 5."""
    panels_png(path, [(f"one digit in {len(images)} contexts: {n_side} side-face, "
                       f"{len(images) - n_side} top-face orientations", mosaic(images / 255.0, 10))])


def masks_png(path: Path, masks: np.ndarray) -> None:
    panels_png(path, [(f"masks of the {len(masks)} contexts (warp of an all-ones texture)", mosaic(masks, 10))])


def cubes_png(path: Path, panels: list[tuple[str, np.ndarray]], cols: int) -> None:
    """Rows of cube images (uint8 [K, H, W]) under titles: samples (figure 4), a turn (figure 13)."""
    panels_png(path, [(title, mosaic(images / 255.0, cols)) for title, images in panels])
