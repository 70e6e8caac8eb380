"""Anomaly detection (section 4's last paragraph): can the best class likelihood tell digits from
inputs that are not digits? AUROC of MNIST test images (positive) against each anomaly kind: the
built-in ones and the user's own folders (``classify.ood.extra``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from data_gen.glyph_folder import open_image
from data_gen.glyphs import random_glyphs
from data_gen.mnist import IMAGE_MAGIC, read_idx
from sla_cli.errors import DataError

KINDS = ("noise", "glyphs", "rotated90", "inverted")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")

# The MLP's in-distribution scores (higher = more digit-like): its maximum softmax probability, and
# the two usually stronger detectors on the same logits, the maximum logit and the (negative) energy.
MLP_DETECTORS = {
    "max_softmax": lambda logits: logits.softmax(1).max(1).values,
    "max_logit": lambda logits: logits.max(1).values,
    "energy": lambda logits: torch.logsumexp(logits, 1),
}


def auroc(positive, negative) -> float:
    """P(score of a random positive > score of a random negative), ties counting one half
    (the Mann-Whitney U statistic with average ranks)."""
    pos = np.asarray(positive, dtype=np.float64).ravel()
    neg = np.asarray(negative, dtype=np.float64).ravel()
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("auroc needs at least one positive and one negative score")
    values = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # 1-based average rank of each tie group
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2.0
    return float(u / (len(pos) * len(neg)))


def anomalies(test_x: Tensor, n: int, seed: int) -> dict[str, Tensor]:
    """n inputs of each built-in kind, as [n, 784] floats in [0, 1] on test_x's device."""
    gen = torch.Generator().manual_seed(seed)
    digits = test_x[:n].reshape(-1, 28, 28)
    glyphs, _ = random_glyphs(n, seed)
    return {
        "noise": torch.rand(n, 784, generator=gen).to(test_x.device),
        "glyphs": torch.from_numpy(glyphs.reshape(n, -1)).float().to(test_x.device) / 255.0,
        "rotated90": torch.rot90(digits, 1, dims=(1, 2)).reshape(len(digits), -1),
        "inverted": 1.0 - digits.reshape(len(digits), -1),
    }


def _idx_magic(path: Path) -> int | None:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            head = f.read(4)
    except (OSError, EOFError):
        return None
    return int.from_bytes(head, "big") if len(head) == 4 else None


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with open_image(path) as im:  # a header claiming a huge image is refused before decoding
            return np.asarray(im.convert("L").resize((28, 28), Image.BILINEAR), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"classify.ood.extra: {path} is not a readable image ({str(e).splitlines()[0]})") from None


def load_folder(folder: str | Path, n: int) -> np.ndarray:
    """uint8 [<= n, 28, 28] from a folder holding an MNIST IDX image file (gzip or raw: its first n
    images), or else from the image files anywhere below it (sorted by path, grey, resized to 28x28)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"classify.ood.extra: {folder} is not a folder")
    idx = sorted(p for p in folder.iterdir() if p.is_file() and _idx_magic(p) == IMAGE_MAGIC)
    if idx:
        return np.array(read_idx(idx[0], IMAGE_MAGIC, first=n))  # never decompressed past n images
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)[:n]
    if not files:
        raise DataError(
            f"classify.ood.extra: {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}) and no MNIST IDX image file"
        )
    return np.stack([_read_image(p) for p in files])


def load_extra(folders, n: int) -> dict[str, Tensor]:
    """Each folder's images as [m, 784] floats in 0..1 (CPU), named after the folder (made unique)."""
    out: dict[str, Tensor] = {}
    for folder in folders:
        name = Path(folder).expanduser().resolve().name or str(folder)
        while name in out or name in KINDS:
            name += "_"
        images = load_folder(folder, n)
        out[name] = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0)
    return out
