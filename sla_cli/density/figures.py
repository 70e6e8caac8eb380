"""samples.png and curves.png (training and validation per epoch; the test set is not read there)."""

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
        out[r * 29 : r * 29 + 28, c * 29 : c * 29 + 28] = img.reshape(28, 28)
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
        steps = chain[every - 1 :: every]  # [S, N, D]
        s, n = steps.shape[:2]
        ordered = steps.permute(1, 0, 2).reshape(s * n, -1)  # row = one chain
        ax.imshow(grid(ordered.float().cpu().numpy(), s), cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{name}: chains from noise, every {every} steps (P(x | x~) means)", fontsize=9)
        ax.axis("off")
    return fig


def curves_figure(
    curves: dict[str, list[dict]],
    ylabel: str,
    binarization: tuple[str, str],
    best: dict[str, int | None],
    test: float | None = None,
    anchors: list[dict] = (),
):
    """Training loss and validation number per epoch; a star at the epoch whose weights were kept, the
    test NLL (read once, at the end) at the last epoch, and the published anchors as dotted lines."""
    fig, ax = plt.subplots(figsize=(7, 6.5))
    fig.subplots_adjust(bottom=0.36)
    ms = 3 if max(len(rows) for rows in curves.values()) < 60 else 0
    for name, rows in curves.items():
        epochs = [r["epoch"] for r in rows]
        prefix = f"{name} " if len(curves) > 1 else ""
        ax.plot(
            epochs,
            [r["train_loss"] for r in rows],
            "-o",
            ms=ms,
            label=f"{prefix}train ({binarization[0]} binarization)",
        )
        if rows and "val_loss" in rows[0]:
            (line,) = ax.plot(
                epochs,
                [r["val_loss"] for r in rows],
                "--s",
                ms=ms,
                label=f"{prefix}validation ({binarization[1]} binarization)",
            )
            if best.get(name) is not None:
                kept = next(r for r in rows if r["epoch"] == best[name])
                ax.plot(
                    [kept["epoch"]],
                    [kept["val_loss"]],
                    "*",
                    ms=12,
                    color=line.get_color(),
                    label=f"{prefix}weights kept (epoch {kept['epoch']})",
                )
    last = max(r["epoch"] for rows in curves.values() for r in rows)
    if test is not None:
        ax.plot([last], [test], "D", ms=7, color="black", label=f"test NLL {test:.2f} (read once, at the end)")
    for anchor, style in zip(anchors, (":", "-.", (0, (1, 3))), strict=False):
        ax.axhline(
            anchor["nats"],
            ls=style,
            lw=1,
            color="grey",
            label=f"{anchor['nats']:.2f}: {anchor['model']} ({anchor['source'].split(' (')[0]}; "
            f"{anchor['train_binarization']} binarization, {anchor['split'].split(' (')[0]})",
        )
    later = [r[k] for rows in curves.values() for r in rows[1:] for k in ("train_loss", "val_loss") if k in r]
    if later:  # the first epoch's loss would squeeze the rest into a line
        low = min([*later, *(a["nats"] for a in anchors), *([test] if test is not None else [])])
        ax.set_ylim(low - 1, max(later) + 1)
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    ax.grid(alpha=0.3)
    return fig
