"""The scale study's figures (bench/scale.py): one per claim, each measure against training FLOPs.

A line joins the points of one frame and one step count across widths (mean over seeds, seeds as a
band from their lowest to their highest value); the paper's number is a horizontal line where the paper
gives one; the paper preset's training FLOPs are a vertical mark. Baselines that do not depend on the
model (the oracle and pixel nearest neighbours of the one-shot test) are horizontal lines.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.scale_table import paper_preset_flops
from sla_cli.plotting import plt, save_figure
from sla_cli.report.claims import PAPER_CONTEXTS, PAPER_RATIO


def _series(rows: list[dict], key: str) -> dict[tuple[int, int], tuple[np.ndarray, ...]]:
    """(frame, steps) -> (flops, mean, low, high) over the widths, each from the points that have the measure."""
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if key in r["measures"] and "training_flops" in r:
            groups[(r["frame"], r["steps"])][r["training_flops"]].append(r["measures"][key])
    out = {}
    for group, by_flops in sorted(groups.items()):
        xs = sorted(by_flops)
        values = [np.asarray(by_flops[x], dtype=float) for x in xs]
        out[group] = (np.asarray(xs), *(np.asarray([f(v) for v in values]) for f in (np.mean, np.min, np.max)))
    return out


def _main_frame(rows: list[dict]) -> int:
    """The frame most points have (the others are single marked points)."""
    frames = [r["frame"] for r in rows]
    return max(sorted(set(frames)), key=frames.count)


def _plot(ax, rows: list[dict], key: str, label: str, color: str, dashed: bool = False) -> None:
    main = _main_frame(rows)
    for i, ((frame, steps), (x, mean, low, high)) in enumerate(_series(rows, key).items()):
        if frame == main:
            style = ("--" if dashed else "-") + ("o" if i % 2 == 0 else "s")
            ax.plot(x, mean, style, color=color, alpha=0.5 + 0.5 * (i % 2), label=f"{label}, {steps} steps", ms=4)
            if np.any(high > low):  # seeds: a band between lines, a bar at a lone width
                ax.fill_between(x, low, high, color=color, alpha=0.15, lw=0)
                ax.vlines(x, low, high, color=color, alpha=0.6)
        else:
            ax.plot(
                x, mean, "*", color=color, ms=11, mec="k", mew=0.5, label=f"{label}, {frame}x{frame}, {steps} steps"
            )
            ax.vlines(x, low, high, color=color)


def _frame_axes(ax, ylabel: str, title: str) -> None:
    ax.axvline(paper_preset_flops(), color="k", ls=":", lw=1, label="paper preset's training FLOPs")
    ax.set_xscale("log")
    ax.set_xlabel("training FLOPs (bench/flops.py)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6)


def _constant(ax, rows: list[dict], key: str, label: str, color: str, ls: str) -> None:
    """A model-independent baseline: one horizontal line at its mean over the points of the main frame."""
    main = _main_frame(rows)
    values = [r["measures"][key] for r in rows if key in r["measures"] and r["frame"] == main]
    if values:
        ax.axhline(float(np.mean(values)), color=color, ls=ls, lw=1, label=label)


def shared_latent(rows: list[dict]):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    _plot(ax, rows, "cross_over_mean_floor", "cross MSE / mean-image floor", "C0")
    _plot(ax, rows, "cross_over_class_floor", "cross MSE / class-mean floor", "C1")
    ax.axhline(1.0, color="gray", lw=0.8, label="the floor")
    _frame_axes(
        ax,
        "test cross MSE / floor (lower is better)",
        "Shared latent space: decode in another context (paper: no number)",
    )
    return fig


def latent_distance(rows: list[dict]):
    fig, ax = plt.subplots(figsize=(6.5, 4))
    _plot(ax, rows, "latent_ratio_digits", "MNIST test digits", "C0")
    _plot(ax, rows, "builtin.glyph_distance_ratio", "drawn glyphs", "C1")
    _plot(ax, rows, "fonts.glyph_distance_ratio", "letters (fonts)", "C2")
    ax.axhline(PAPER_RATIO, color="C3", lw=1.2, label=f"paper (its glyphs): {PAPER_RATIO:.2f}")
    _frame_axes(
        ax,
        "latent distance: different / same across contexts",
        "Section 10: one glyph across contexts vs different glyphs in one context",
    )
    return fig


def oneshot(rows: list[dict]):
    protocols = {
        "paper": "2-way, same drawing (paper)",
        "same_instance": "10-way, same instance",
        "new_instances": "10-way, new instances",
    }
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True)
    glyph_sets = (("builtin", "drawn glyphs"), ("fonts", "letters in typefaces"))
    for row_axes, (glyphs, what) in zip(axes, glyph_sets, strict=True):
        for ax, (protocol, title) in zip(row_axes, protocols.items(), strict=True):
            _plot(ax, rows, f"{glyphs}.{protocol}.ours", "ours", "C0")
            _constant(ax, rows, f"{glyphs}.{protocol}.oracle", "oracle pixel NN (flat glyphs)", "C2", "--")
            _constant(ax, rows, f"{glyphs}.{protocol}.pixel_nn", "pixel NN (frames)", "gray", "-.")
            if protocol == "paper" and glyphs == "builtin":
                ax.axhline(1.0, color="C3", lw=1.2, label=f"paper: all {PAPER_CONTEXTS} contexts right")
            ax.set_ylim(0, 1.05)
            _frame_axes(ax, "accuracy, mean over the other contexts", f"One-shot, {what}: {title}")
    return fig


# Angle-error panels: where, ours, and the two controls (maps' first principal component; the pixel
# autoencoder, which never sees the first level, so one line).
ANGLE_PANELS = (
    (
        "test cubes of the trained digit",
        "concept.angle_mae_deg",
        "concept.maps_pca_angle_mae_deg",
        "concept.pixels_ae_angle_mae_deg",
    ),
    (
        "cubes of unseen digits and glyphs",
        "concept.unseen_texture_mae_deg",
        "concept.unseen_maps_pca_mae_deg",
        "concept.unseen_pixels_ae_mae_deg",
    ),
)


def concept(rows: list[dict]):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    _plot(axes[0], rows, "concept.spearman", "ours (second level on the maps)", "C0")
    _frame_axes(axes[0], "Spearman(latent, angle), test cubes", "Concept: the one latent orders the angle")
    for ax, (what, ours, maps_pca, pixels) in zip(axes[1:], ANGLE_PANELS, strict=True):
        _plot(ax, rows, ours, "ours", "C0")
        _plot(ax, rows, maps_pca, "control: maps' first PC", "C1", dashed=True)
        _constant(ax, rows, pixels, "control: pixel autoencoder (no first level)", "gray", "-.")
        _frame_axes(ax, "angle error (degrees)", f"Concept: angle read back, {what}")
    return fig


FIGURES = {
    "shared_latent.png": shared_latent,
    "latent_distance.png": latent_distance,
    "oneshot.png": oneshot,
    "concept.png": concept,
}


def write_figures(rows: list[dict], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in FIGURES.items():
        save_figure(draw(rows), folder / name, dpi=110)
        paths.append(folder / name)
    return paths
