"""A tiny dataset in `sla generate-cubes`' format for the train tests: 12 small contexts, seconds to make.

MNIST digits shrunk onto a small frame and warped per context by different deterministic affine
maps (rotation, scale, shift, some mirrored); each context's mask is the same warp of an all-ones
face. Outside the mask the frame holds random clutter, which only masking lets a model ignore.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from data_gen.mnist import load_split
from sla_cli import runfolder


def context_grids(n_contexts: int, size: int) -> torch.Tensor:
    """[C, size, size, 2] sampling grids: where each frame pixel reads the 28x28 digit."""
    thetas = []
    for c in range(n_contexts):
        angle = math.radians(-70 + 140 * c / max(n_contexts - 1, 1))
        scale = 1.25 + 0.25 * (c % 3)  # >1: the digit fills only part of the frame
        flip = -1.0 if c % 4 == 3 else 1.0
        tx, ty = 0.15 * ((c % 5) - 2), 0.1 * ((c % 2) * 2 - 1)
        cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
        thetas.append([[flip * cos, -sin, tx], [flip * sin, cos, ty]])
    theta = torch.tensor(thetas, dtype=torch.float32)
    return F.affine_grid(theta, [n_contexts, 1, size, size], align_corners=False)


def render(digits: torch.Tensor, grids: torch.Tensor) -> torch.Tensor:
    """digits float [N, 28, 28] in 0..1 -> [N, C, H, W]."""
    n = digits.shape[0]
    views = [
        F.grid_sample(digits[:, None], grids[c : c + 1].expand(n, -1, -1, -1), align_corners=False)
        for c in range(grids.shape[0])
    ]
    return torch.cat(views, dim=1)


def make_dataset(
    folder: Path,
    mnist_root: Path,
    n_contexts: int = 12,
    size: int = 16,
    n_train: int = 400,
    n_test: int = 100,
    seed: int = 0,
    clutter: float = 0.6,
) -> Path:
    cfg = OmegaConf.create(
        {
            "kind": "tiny test dataset",
            "n_contexts": n_contexts,
            "size": size,
            "n_train": n_train,
            "n_test": n_test,
            "seed": seed,
            "run": {"overwrite": True},
        }
    )
    grids = context_grids(n_contexts, size)
    masks = F.grid_sample(torch.ones(1, 1, 28, 28).expand(n_contexts, -1, -1, -1), grids, align_corners=False)[:, 0]
    gen = torch.Generator().manual_seed(seed)
    with runfolder.Run(folder, "dataset", cfg) as run:
        if run.complete:
            return Path(folder)
        for split, n in (("train", n_train), ("test", n_test)):
            images, labels = load_split(mnist_root, split)
            digits = torch.from_numpy(images[:n].astype(np.float32) / 255)
            views = render(digits, grids)
            noise = torch.rand(views.shape, generator=gen) * clutter * (1 - masks)
            pixels = (views * masks + noise).clamp(0, 1)
            run.save_npy(f"{split}_images.npy", (pixels * 255).round().to(torch.uint8).numpy())
            run.save_npy(f"{split}_labels.npy", labels[:n].astype(np.uint8))
        run.save_npy("masks.npy", masks.numpy().astype(np.float32))
        run.describe(n_contexts=n_contexts, image_size=size, contexts=[{"index": c} for c in range(n_contexts)])
    return Path(folder)


# The machine's cores are shared; one thread keeps the tests' timing steady (OpenMP spin-waits
# badly under contention). Subprocess runs get it through the environment.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
