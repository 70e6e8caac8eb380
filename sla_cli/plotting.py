"""Figures: matplotlib on its file-only Agg backend, each saved atomically into a run folder."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

from sla_cli.runfolder import atomic_path

__all__ = ["context_indices", "grid_ticks", "plt", "save_figure", "tile"]


@functools.cache
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI; must come before pyplot
    import matplotlib.pyplot

    return matplotlib.pyplot


class _Pyplot:
    """matplotlib.pyplot, imported at its first use: every stage module imports its figures module, and
    `sla pipeline`'s pre-flight imports every stage's validate() before it draws anything (half a second
    of its 10 s on a busy 2-core machine)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_pyplot(), name)


plt: Any = _Pyplot()


def save_figure(fig, path: Path, dpi: int = 100, tight: bool = True) -> None:
    """Write ``fig`` as a PNG at ``path`` (renamed into place only when complete) and free it."""
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)


def tile(
    images: np.ndarray, cols: int | None = None, gap: int = 1, fill: float = 0.5, border: bool = False
) -> np.ndarray:
    """Images [K, H, W] (values in 0..1) as one grid image in reading order, ``cols`` to a row
    (default: near-square), with ``gap``-pixel grey lines so black frames stay apart."""
    k, h, w = images.shape
    cols = cols or math.ceil(math.sqrt(k))
    rows = -(-k // cols)
    edge = gap if border else 0
    out = np.full((rows * (h + gap) - gap + 2 * edge, cols * (w + gap) - gap + 2 * edge), fill, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        top, left = edge + r * (h + gap), edge + c * (w + gap)
        out[top : top + h, left : left + w] = img
    return out


def context_indices(
    ax, k: int, shape: tuple[int, int], cols: int | None = None, gap: int = 1, border: bool = False, fontsize: float = 5
) -> None:
    """Number each tile of a ``tile(images[k], cols, gap, border)`` image drawn on ``ax`` with its
    index (the context), in its top-left corner, so a reader can find context 33 in a grid of 100."""
    h, w = shape
    cols = cols or math.ceil(math.sqrt(k))
    edge = gap if border else 0
    for i in range(k):
        r, c = divmod(i, cols)
        ax.text(
            edge + c * (w + gap) + 0.5,
            edge + r * (h + gap) + 0.5,
            str(i),
            fontsize=fontsize,
            color="gold",
            ha="left",
            va="top",
            alpha=0.9,
        )


def grid_ticks(ax, n: int, cols: int) -> None:
    """Ticks of a heat map holding n contexts in reading order, ``cols`` to a row: the column's
    offset along x, the row's first context along y (context = row label + column label)."""
    rows = -(-n // cols)
    ax.set_xticks(range(cols))
    ax.set_xticklabels([f"+{c}" for c in range(cols)], fontsize=6)
    ax.set_yticks(range(rows))
    ax.set_yticklabels([str(r * cols) for r in range(rows)], fontsize=6)
