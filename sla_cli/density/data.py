"""Binarized MNIST: grey levels for training (a fresh Bernoulli draw each epoch: dynamic
binarization) and one fixed seeded Bernoulli draw of the test images, identified by its sha256.

Published numbers differ by about 2 nats between binarizations (dynamic vs the fixed Larochelle
set), so density.json names which one was used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import Tensor

from data_gen.mnist import load_split

BINARIZATION = ("train: dynamic (a fresh Bernoulli sample of the grey levels every epoch); "
                "test: one fixed Bernoulli sample of the 10,000 test images drawn with test_seed")


@dataclass
class BinaryMnist:
    train_grey: Tensor  # [N, 784] float in [0, 1]: the Bernoulli means
    train_labels: Tensor  # [N] long
    test: Tensor  # [M, 784] float in {0, 1}: the fixed binarization
    test_labels: Tensor  # [M] long
    test_sha256: str  # of the 10,000 x 784 test bits as uint8, before any test_size cut
    test_seed: int


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


def load(root: str, download: bool, device: torch.device, test_seed: int,
         train_size: int | None = None, test_size: int | None = None) -> BinaryMnist:
    tr_img, tr_lab = load_split(root, "train", download)
    te_img, te_lab = load_split(root, "test", download)
    train = torch.from_numpy(tr_img.reshape(len(tr_img), -1).copy()).float() / 255.0
    test_grey = torch.from_numpy(te_img.reshape(len(te_img), -1).copy()).float() / 255.0
    test = binarize_fixed(test_grey, test_seed)  # all 10,000, so the hash names one published set
    sha = bits_sha256(test)
    tr_lab = torch.from_numpy(tr_lab.astype("int64"))
    te_lab = torch.from_numpy(te_lab.astype("int64"))
    if train_size is not None:
        train, tr_lab = train[:train_size], tr_lab[:train_size]
    if test_size is not None:
        test, te_lab = test[:test_size], te_lab[:test_size]
    return BinaryMnist(train.to(device), tr_lab.to(device), test.to(device), te_lab.to(device), sha, test_seed)
