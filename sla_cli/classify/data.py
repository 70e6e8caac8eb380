"""MNIST for the classifier: one float tensor per split, on the device, batches taken by index."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from data_gen.sources import load_split
from sla_cli.errors import ConfigError, DataError

N_CLASSES = 10


@dataclass
class Split:
    x: Tensor  # [N, 784] float in [0, 1]
    y: Tensor  # [N] long

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Mnist:
    train: Split  # what both models learn from
    val: Split  # held out of the official training set: calibration only
    test: Split  # the official test images (or their first ``test_size``)


def _split(images, labels, device) -> Split:
    x = torch.from_numpy(images.reshape(len(images), -1).copy()).to(device=device, dtype=torch.float32) / 255.0
    return Split(x, torch.from_numpy(labels.astype("int64")).to(device))


def load(
    root: str,
    download: bool,
    device: torch.device,
    val_size: int,
    train_size: int | None,
    test_size: int | None,
    seed: int,
    source: str = "mnist",
) -> Mnist:
    """The validation split is a fixed random draw (by ``seed``) from the 60,000 training images;
    ``train_size`` caps the rest (smoke runs), ``test_size`` takes the first test images.
    ``source``: ``data.source`` (data_gen.sources): MNIST, or another set of ten classes 0..9."""
    tr_img, tr_lab = load_split(source, root, "train", download)
    te_img, te_lab = load_split(source, root, "test", download)
    _check_classes(source, tr_lab, te_lab, val_size)
    order = torch.randperm(len(tr_lab), generator=torch.Generator().manual_seed(seed)).numpy()
    val_idx, train_idx = order[:val_size], order[val_size:]
    if train_size is not None:
        train_idx = train_idx[:train_size]
    if test_size is not None:
        te_img, te_lab = te_img[:test_size], te_lab[:test_size]
    return Mnist(
        _split(tr_img[train_idx], tr_lab[train_idx], device),
        _split(tr_img[val_idx], tr_lab[val_idx], device),
        _split(te_img, te_lab, device),
    )


def _check_classes(source: str, train_labels, test_labels, val_size: int) -> None:
    """Another source must be ten classes 0..9, each in the training images, with more of them than
    classify.val_size holds out."""
    top = int(max(train_labels.max(), test_labels.max()))
    if top >= N_CLASSES:
        raise DataError(f"data.source={source} has labels up to {top}; sla classify needs ten classes 0..9")
    absent = sorted(set(range(N_CLASSES)) - {int(v) for v in set(train_labels.tolist())})
    if absent:
        raise DataError(
            f"data.source={source} has no training image of class {absent[0]}; sla classify needs all ten classes 0..9"
        )
    if val_size >= len(train_labels):
        raise ConfigError(
            f"classify.val_size={val_size} leaves nothing to train on: data.source={source} holds "
            f"{len(train_labels)} training images"
        )


def check_per_class(train: Split, per_class: int, n_classes: int) -> None:
    counts = torch.bincount(train.y.cpu(), minlength=n_classes)
    if per_class > int(counts.min()):
        raise ConfigError(
            f"classify.train_per_class={per_class} is more than the smallest class holds "
            f"({int(counts.min())} images of class {int(counts.argmin())} in the training split)"
        )


def per_class_subset(train: Split, per_class: int, n_classes: int, seed: int) -> Split:
    """``per_class`` images of each class, a fixed draw by ``seed`` (the same seed, the same images).

    A seeded permutation of each class's indices, its first ``per_class`` kept, in the split's order;
    asking for more than the smallest class holds is a one-line error."""
    check_per_class(train, per_class, n_classes)
    y = train.y.cpu()
    gen = torch.Generator().manual_seed(seed)
    keep = []
    for c in range(n_classes):
        idx = torch.nonzero(y == c).flatten()
        keep.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]])
    chosen = torch.cat(keep).sort().values.to(train.y.device)
    return Split(train.x[chosen], train.y[chosen])


def class_epoch_indices(y: Tensor, n_classes: int, generator: torch.Generator) -> Tensor:
    """[C, M] indices into y: row c is a fresh permutation of class c's images, topped up with random
    repeats to the largest class's count M, so one epoch is a rectangular batch grid."""
    rows = []
    counts = torch.bincount(y.cpu(), minlength=n_classes)
    top = int(counts.max())
    for c in range(n_classes):
        idx = torch.nonzero(y.cpu() == c).flatten()
        perm = idx[torch.randperm(len(idx), generator=generator)]
        extra = idx[torch.randint(len(idx), (top - len(idx),), generator=generator)]
        rows.append(torch.cat([perm, extra]))
    return torch.stack(rows).to(y.device)
