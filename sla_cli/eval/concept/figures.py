"""The concept stage's figures (paper figures 12, 14, 15 and 16), as matplotlib Figures for
``run.save_figure``: rows of small panels, cube images in grey, maps as square pictures."""

from __future__ import annotations

import numpy as np

from sla_cli.eval.concept import evaluate
from sla_cli.eval.concept.maps import square_maps
from sla_cli.plotting import plt


def _grid(rows: list[tuple[str, np.ndarray, str]], titles: list[str], suptitle: str):
    """rows: (label, panels [n, h, w], 'image' | 'map'); one column per title."""
    n = len(titles)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.3 * n + 0.8, 1.45 * len(rows) + 0.4), squeeze=False)
    for r, (label, panels, kind) in enumerate(rows):
        for c in range(n):
            ax = axes[r, c]
            if kind == "image":
                ax.imshow(panels[c], cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(np.ma.masked_invalid(panels[c]), cmap="viridis", vmin=0, vmax=np.nanmax(panels))
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(titles[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(suptitle, fontsize=10, y=1.0 + 0.1 / len(rows))  # clear of the column titles
    return fig


def likelihood_maps(cubes: np.ndarray, maps: np.ndarray, compare: np.ndarray, compare_maps: np.ndarray,
                    angles: np.ndarray, digit: int, compare_digit: int):
    """Figure 12: cubes of two digits at the same angles and their likelihood maps."""
    rows = [(f"cube of {digit}s", cubes, "image"), (f"map ({digit}s)", square_maps(maps), "map"),
            (f"cube of {compare_digit}s", compare, "image"),
            (f"map ({compare_digit}s)", square_maps(compare_maps), "map")]
    return _grid(rows, [f"{a:.0f} deg" for a in angles],
                 "context-likelihood maps: where the faces are, not what is on them (figure 12)")


def concept_sweep(maps: np.ndarray, u: np.ndarray, angles: np.ndarray):
    """Figure 14: maps decoded by the second level along its latent."""
    rows = [("decoded map", square_maps(maps), "map")]
    return _grid(rows, [f"u={a:.2f}\n~{b:.0f} deg" for a, b in zip(u, angles, strict=True)],
                 "second-level latent swept 0..1: a cube that turns (figure 14)")


def backprojection(rows: list[tuple[str, np.ndarray, np.ndarray]], u: np.ndarray, angles: np.ndarray):
    """Figures 15, 16: per code, back-projected cubes over true renders at the fitted angle."""
    panels = []
    for name, projected, true in rows:
        panels += [(f"{name}: decoded", projected, "image"), (f"{name}: true", true, "image")]
    return _grid(panels, [f"u={a:.2f}\n~{b:.0f} deg" for a, b in zip(u, angles, strict=True)],
                 "back-projection of first-level codes through the second level (figures 15, 16)")


def draw_all(trained, ae, m, cubes, codes, textures, fit, test: np.ndarray, cfg) -> dict:
    """The stage's three figures by file name: held-out cubes for figure 12, the latent swept 0..1
    (read as angles through the monotone fit) for figures 14-16."""
    out = {}
    n = int(cfg.concept.figure_columns)
    targets = (np.arange(n) + 0.5) * 90.0 / n
    pick = test[np.abs(cubes.angles[test][None] - targets[:, None]).argmin(1)]
    out["likelihood_maps.png"] = likelihood_maps(
        cubes.images[pick] / 255.0, m.digit[pick].cpu().numpy(), cubes.compare[pick] / 255.0,
        m.compare[pick].cpu().numpy(), cubes.angles[pick], cubes.digit, cubes.compare_digit)
    u = np.linspace(0.0, 1.0, n)
    angles = fit(u)
    out["concept_sweep.png"] = concept_sweep(evaluate.decoded_maps(ae, u, trained.masks.device), u, angles)
    rows = [(name, evaluate.project(trained, ae, code, u, cubes, float(cfg.concept.peak_fraction)),
             evaluate.true_renders(trained, textures[name], angles)) for name, code in codes.items()]
    out["backprojection.png"] = backprojection(rows, u, angles)
    return out
