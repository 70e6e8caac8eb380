"""transfer.png (the paper's figure 6) and curves.png, drawn with matplotlib's Agg backend."""

from __future__ import annotations

import numpy as np
import torch

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.plotting import context_indices, plt, tile
from sla_cli.train.data import Dataset, to_batch


def pick_digits(labels: np.ndarray, k: int) -> list[int]:
    """The first test digits of k different classes (fewer classes: the first k digits)."""
    chosen, seen = [], set()
    for i, label in enumerate(labels[:1000]):
        if int(label) not in seen:
            chosen.append(i)
            seen.add(int(label))
        if len(chosen) == k:
            return chosen
    return list(range(min(k, len(labels))))


@torch.no_grad()
def transfer_figure(model: AutoencoderSet, data: Dataset, device: torch.device, source: int, k: int):
    """Each digit seen only by context ``source``: its latent decoded by every context, beside the true renders."""
    rows = pick_digits(data.test_labels, k)
    h, w = data.frame
    x = to_batch(data.test_images[rows], device)  # [C, k, D]
    c = x.shape[0]
    z = model.encode(x[source : source + 1], torch.tensor([source], device=device))  # [1, k, L]
    decoded = model.decode(z.expand(c, -1, -1)).float().cpu().numpy().reshape(c, len(rows), h, w)
    decoded = decoded * data.masks[:, None]  # outside its mask a decoder is never trained: show only the face
    truth = x.cpu().numpy().reshape(c, len(rows), h, w)
    fig, axes = plt.subplots(len(rows), 2, figsize=(10, 4 * len(rows)), squeeze=False)
    for i, digit in enumerate(rows):
        for ax, images, title in (
            (axes[i, 0], truth, f"test digit {digit} (label {int(data.test_labels[digit])}): true renders"),
            (axes[i, 1], decoded, f"encoded by context {source}, decoded by each (masked)"),
        ):
            ax.imshow(tile(images[:, i]), cmap="gray", vmin=0, vmax=1)
            context_indices(ax, c, (h, w))
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    return fig


def curves_figure(rows: list[dict], losses: tuple[str, ...] = ("self", "cross")):
    fig, ax = plt.subplots(figsize=(6, 4))
    keys = tuple(f"{name}_loss" for name in losses)
    for key in keys:
        points = [(r["step"], r[key]) for r in rows if r.get(key) not in (None, "")]
        if points:
            ax.plot(*zip(*points, strict=True), label=key.replace("_", " "))
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (masked)" if "self" in losses else "training loss")
    if all(r.get(k, 1) in (None, "") or float(r.get(k, 1)) > 0 for r in rows for k in keys):
        ax.set_yscale("log")  # an NLL (learn_sigma) can go negative: then a linear axis
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
