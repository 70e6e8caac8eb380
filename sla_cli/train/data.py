"""The `sla generate-cubes` dataset as the trainer sees it: checked arrays and batches on the device.

Image arrays are ``uint8 [N, C, H, W]`` (every digit rendered in every context), read memory-mapped.
The training set moves to the device whole, as ``uint8 [C, N, D]``, when it fits under a size limit
(then a batch is one index_select); otherwise each batch is read from the memory map.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from sla_cli import runfolder
from sla_cli.console import console
from sla_cli.errors import DataError
from sla_cli.pipeline.registry import DATASET_FILES

FILES = DATASET_FILES  # what `sla generate-cubes` writes (the stage registry)
ARRAYS = (FILES.train_images, FILES.test_images, FILES.train_labels, FILES.test_labels, FILES.masks)


@dataclass
class Dataset:
    folder: Path
    identity: dict  # what a model remembers of its dataset, to refuse a mismatched one on resume
    train_images: np.ndarray  # uint8 [N, C, H, W], memory-mapped
    test_images: np.ndarray
    train_labels: np.ndarray
    test_labels: np.ndarray
    masks: np.ndarray  # float32 [C, H, W] in 0..1

    @property
    def n_contexts(self) -> int:
        return self.masks.shape[0]

    @property
    def frame(self) -> tuple[int, int]:
        return self.masks.shape[1], self.masks.shape[2]

    @property
    def dim(self) -> int:
        return self.masks.shape[1] * self.masks.shape[2]


def dataset_identity(folder: Path, manifest: dict) -> dict:
    files = json.dumps(manifest.get("sha256", {}), sort_keys=True).encode()
    return {
        "folder": str(folder),
        "identity": manifest.get("identity"),
        "files_sha256": hashlib.sha256(files).hexdigest()[:16],
    }


def same_dataset(a: dict, b: dict) -> bool:
    """Same content, wherever the folder now lies."""
    return a.get("identity") == b.get("identity") and a.get("files_sha256") == b.get("files_sha256")


def _load(folder: Path, name: str, mmap: bool) -> np.ndarray:
    path = folder / name
    if not path.exists():
        raise DataError(f"{path} is missing (an sla dataset folder holds {', '.join(ARRAYS)})")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is unreadable or truncated ({str(e).splitlines()[0]})") from None


def load_dataset(folder: str | Path) -> Dataset:
    folder = Path(folder)
    manifest = runfolder.read_manifest(folder, "dataset")
    # every array is hashed once per run, the big image arrays streamed (a progress bar past 1 s):
    # a flipped byte would otherwise train silently
    runfolder.verify_files(folder, manifest, ARRAYS)
    data = Dataset(
        folder,
        dataset_identity(folder, manifest),
        _load(folder, FILES.train_images, True),
        _load(folder, FILES.test_images, True),
        _load(folder, FILES.train_labels, False),
        _load(folder, FILES.test_labels, False),
        _load(folder, FILES.masks, False).astype(np.float32),
    )
    _check_shapes(data, manifest)
    return data


def _check_shapes(data: Dataset, manifest: dict) -> None:
    masks = data.masks
    if masks.ndim != 3:
        raise DataError(f"{data.folder}/{FILES.masks} has shape {masks.shape}, expected [C, H, W]")
    c = masks.shape[0]
    if manifest.get("n_contexts", c) != c:
        raise DataError(f"{data.folder}: manifest says n_contexts={manifest['n_contexts']} but {FILES.masks} has {c}")
    for split in ("train", "test"):
        images, labels = getattr(data, f"{split}_images"), getattr(data, f"{split}_labels")
        if images.ndim != 4 or images.shape[1:] != masks.shape or images.dtype != np.uint8:
            raise DataError(
                f"{data.folder}/{FILES.split(split, 'images')} is {images.dtype} {images.shape}, "
                f"expected uint8 [N, {c}, {masks.shape[1]}, {masks.shape[2]}]"
            )
        if labels.shape != (images.shape[0],):
            raise DataError(
                f"{data.folder}/{FILES.split(split, 'labels')} has shape {labels.shape}, expected ({images.shape[0]},)"
            )
        if images.shape[0] < 2:
            raise DataError(
                f"{data.folder}/{FILES.split(split, 'images')} holds {images.shape[0]} digits; at least 2 are needed"
            )


def to_batch(images: np.ndarray | Tensor, device: torch.device) -> Tensor:
    """uint8 [B, C, H, W] -> float [C, B, D] in 0..1 on the device."""
    t = torch.from_numpy(np.array(images)) if isinstance(images, np.ndarray) else images  # np.array: a writable copy
    b, c = t.shape[:2]
    return t.to(device, non_blocking=True).reshape(b, c, -1).transpose(0, 1).float().div_(255)


class BatchSource:
    """Batches of training digits by index, from device memory when the set fits there (``max_mb``, or
    ``"auto"``: when it fits beside the model, ``sla_cli.memory.holds_training_set``), else read from
    the memory map. Both give the same batch, digit for digit, in the order of ``index``."""

    def __init__(self, images: np.ndarray, device: torch.device, max_mb: float | str):
        from sla_cli import memory

        self.images, self.device = images, device
        if max_mb == memory.AUTO:
            self.on_device = memory.holds_training_set(images.nbytes, device)
            if not self.on_device:
                console.print(
                    f"the training set ({memory.size(images.nbytes)}) does not fit in memory beside the "
                    "model: batches are read from the memory-mapped arrays (train.device_data_mb=auto)"
                )
        else:
            self.on_device = images.nbytes <= max_mb * 2**20
        if self.on_device:
            n, c = images.shape[:2]
            whole = torch.from_numpy(np.array(images)).reshape(n, c, -1)  # a writable copy, off the memory map
            self.resident = whole.to(device).transpose(0, 1).contiguous()  # [C, N, D]: a batch is one gather

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(self, index: Tensor) -> Tensor:
        if self.on_device:
            return self.resident.index_select(1, index.to(self.device)).float().div_(255)
        index = index.numpy()
        order = np.argsort(index, kind="stable")  # sorted reads are kinder to the memory map ...
        rows = np.empty_like(order)
        rows[order] = np.arange(len(order))  # ... then back in the batch's order (views, pairs follow it)
        return to_batch(self.images[index[order]][rows], self.device)


def view_choice(n_digits: int, n_contexts: int, views_per_digit: int | None, seed: int) -> Tensor | None:
    """bool [N, C]: which contexts' views of each training digit the training set holds
    (``train.views_per_digit=k``): k distinct contexts per digit, a fixed random choice drawn from
    its own seeded stream, so every run with the same seed and k sees the same views. None: all of them.
    """
    if views_per_digit is None or views_per_digit >= n_contexts:
        return None
    gen = torch.Generator().manual_seed(seed + 7919)  # the views stream: apart from the batch sampler's
    keys = torch.rand(n_digits, n_contexts, generator=gen)
    chosen = keys.argsort(dim=1)[:, :views_per_digit]  # k distinct contexts per digit, uniformly
    seen = torch.zeros(n_digits, n_contexts, dtype=torch.bool)
    seen.scatter_(1, chosen, True)
    return seen
