"""Figures: matplotlib on its file-only Agg backend, each saved atomically into a run folder."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI; must come before pyplot
import matplotlib.pyplot as plt  # noqa: E402

from sla_cli.runfolder import atomic_path  # noqa: E402

__all__ = ["plt", "save_figure"]


def save_figure(fig, path: Path, dpi: int = 100, tight: bool = True) -> None:
    """Write ``fig`` as a PNG at ``path`` (renamed into place only when complete) and free it."""
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    plt.close(fig)
