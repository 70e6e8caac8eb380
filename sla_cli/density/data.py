"""Binarized MNIST: the splits and how their grey levels become bits.

Splits: validation is the last ``val_size`` of the 60,000 training images (10,000 gives the 50,000 /
10,000 split of the Larochelle set; that its validation images are MNIST's last 10,000 training
images, as in the deeplearning.net mnist.pkl.gz it was drawn from, is our reading, not checked
against the files), the test set is MNIST's 10,000 test images.

Binarization (``density.train_binarization``, ``density.test_binarization``):
- ``dynamic``: a fresh Bernoulli draw every time the images are read (every training epoch; every
  validation; the final test), from the run's sampler generator, as the IWAE paper's code does;
- ``fixed``: one Bernoulli draw from a CPU generator seeded with ``test_seed`` (test), +1
  (validation), +2 (training), the same bits on every machine and every epoch. Larochelle's files are
  one such draw, but of an unpublished generator: the same protocol, not the same bits (nor could
  MNIST rebuilt from PNGs, as ours partly is, give them; see the data README).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import Tensor

from data_gen.sources import load_split
from sla_cli.errors import ConfigError

OFFSETS = {"test": 0, "validation": 1, "train": 2}  # added to test_seed for each split's fixed draw


@dataclass
class GreyMnist:
    train: Tensor  # [N, 784] float in [0, 1]: the Bernoulli means
    train_labels: Tensor
    val: Tensor  # [V, 784] (V = val_size, possibly 0)
    val_labels: Tensor
    test: Tensor  # [M, 784]
    test_labels: Tensor
    test_full: Tensor  # all 10,000 test images (a fixed draw is made of all of them, so its hash names one set)


def _flat(images) -> Tensor:
    return torch.from_numpy(images.reshape(len(images), -1).copy()).float() / 255.0


def load(
    root: str,
    download: bool,
    device: torch.device,
    val_size: int,
    train_size: int | None = None,
    test_size: int | None = None,
    source: str = "mnist",
) -> GreyMnist:
    """``source``: ``data.source`` (data_gen.sources): MNIST, or any other set of 28x28 grey images."""
    tr_img, tr_lab = load_split(source, root, "train", download)
    te_img, te_lab = load_split(source, root, "test", download)
    if val_size >= len(tr_img):
        raise ConfigError(
            f"density.val_size={val_size} leaves nothing to train on: data.source={source} holds "
            f"{len(tr_img)} training images"
        )
    train, test = _flat(tr_img), _flat(te_img)
    tr_lab, te_lab = torch.from_numpy(tr_lab.astype("int64")), torch.from_numpy(te_lab.astype("int64"))
    cut = len(train) - val_size
    val, val_lab, train, tr_lab = train[cut:], tr_lab[cut:], train[:cut], tr_lab[:cut]
    if train_size is not None:
        train, tr_lab = train[:train_size], tr_lab[:train_size]
    m = test_size if test_size is not None else len(test)
    return GreyMnist(*(t.to(device) for t in (train, tr_lab, val, val_lab, test[:m], te_lab[:m])), test_full=test)


def binarize_fixed(grey: Tensor, seed: int) -> Tensor:
    """One Bernoulli sample of ``grey`` from a CPU generator seeded with ``seed`` (same bits everywhere)."""
    return torch.bernoulli(grey.cpu(), generator=torch.Generator().manual_seed(seed))


def binarize_dynamic(grey: Tensor, generator: torch.Generator) -> Tensor:
    """A fresh sample on the grey levels' device; ``generator`` is a CPU generator, so the draw is
    made as uniforms on CPU only when the data lives there (bit-repeatable on CPU)."""
    if grey.device.type == "cpu":
        return torch.bernoulli(grey, generator=generator)
    return torch.bernoulli(grey)


def bits_sha256(bits: Tensor) -> str:
    return hashlib.sha256(bits.to(torch.uint8).cpu().numpy().tobytes()).hexdigest()


class Binarizer:
    """The bits each split is read as, by the run's two binarization settings."""

    def __init__(self, train: str, test: str, seed: int, generator: torch.Generator):
        self.train_mode, self.test_mode, self.seed, self.generator = train, test, seed, generator
        self._fixed: dict[str, Tensor] = {}

    def _fixed_draw(self, split: str, grey: Tensor) -> Tensor:
        if split not in self._fixed:
            self._fixed[split] = binarize_fixed(grey, self.seed + OFFSETS[split]).to(grey.device)
        return self._fixed[split]

    def train(self, grey: Tensor) -> Tensor:
        """The training bits of one epoch."""
        return self._fixed_draw("train", grey) if self.train_mode == "fixed" else binarize_dynamic(grey, self.generator)

    def held_out(self, split: str, grey: Tensor) -> Tensor:
        """The bits of one evaluation of ``split`` (validation or test)."""
        return self._fixed_draw(split, grey) if self.test_mode == "fixed" else binarize_dynamic(grey, self.generator)

    def test(self, data: GreyMnist) -> tuple[Tensor, dict]:
        """The test bits (read once, at the end) and what density.json says of them."""
        if self.test_mode == "fixed":  # drawn over all 10,000, so the hash names one set whatever test_size
            full = binarize_fixed(data.test_full, self.seed + OFFSETS["test"])
            bits, about = full[: len(data.test)].to(data.test.device), {"test_bits_sha256": bits_sha256(full)}
        else:
            bits = binarize_dynamic(data.test, self.generator)
            about = {"test_bits_sha256_of_this_draw": bits_sha256(bits)}
        return bits, {
            "train": self.train_mode,
            "test": self.test_mode,
            "test_seed": self.seed,
            **about,
            "meaning": "dynamic: a fresh Bernoulli draw whenever images are read; fixed: one seeded "
            "draw per split (test test_seed, validation +1, training +2)",
        }
