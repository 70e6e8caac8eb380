"""Where the digits come from: ``data.source`` = ``mnist`` | ``idx:DIR`` | ``folder:DIR``.

- ``mnist``: the four MNIST IDX files under ``run.data_root`` (``data_gen.mnist``).
- ``idx:DIR``: any IDX quadruple laid out like MNIST's, in DIR or DIR/raw: a train and a test image
  file (``*train-images*idx3-ubyte``, ``*t10k-images*`` or ``*test-images*``, gzip or raw) and their
  label files (``idx1-ubyte``), 28x28 images, any counts. Fashion-MNIST and KMNIST use MNIST's own
  names; EMNIST's files (``emnist-*``) are stored transposed and are turned upright here (EMNIST
  letters keep their labels 1..26).
- ``folder:DIR``: class subfolders of images (PNG or JPEG), made MNIST-like the way MNIST's digits
  were (``data_gen.glyph_folder.mnist_like``: ink cropped, fitted in 20x20, centred by mass in
  28x28). DIR/train/<class>/ and DIR/test/<class>/ when both exist; otherwise DIR/<class>/, whose
  every 7th image (in file-name order) is a test image, as MNIST holds 10,000 of 70,000. A class
  folder named by a number 0..255 has that label; otherwise labels follow the sorted names.

Every problem is one ``InputDataError`` line naming the file or folder, as with MNIST.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from data_gen import mnist
from data_gen.errors import InputDataError
from data_gen.glyph_folder import SUFFIXES, GlyphFolderError, mnist_like, read_grey

KINDS = ("mnist", "idx", "folder")
IDX_PATTERNS = {
    ("train", "images"): re.compile(r"train-images.*idx3-ubyte(\.gz)?$"),
    ("train", "labels"): re.compile(r"train-labels.*idx1-ubyte(\.gz)?$"),
    ("test", "images"): re.compile(r"(t10k|test)-images.*idx3-ubyte(\.gz)?$"),
    ("test", "labels"): re.compile(r"(t10k|test)-labels.*idx1-ubyte(\.gz)?$"),
}
TEST_EVERY = 7  # folder:DIR without train/ and test/: every 7th image of a class is a test image


def parse(source: str) -> tuple[str, Path | None]:
    """(kind, folder) of a ``data.source`` value; ValueError (one line) for anything else."""
    kind, colon, folder = str(source).partition(":")
    if kind == "mnist" and not colon:
        return "mnist", None
    if kind in ("idx", "folder") and colon and folder:
        return kind, Path(folder).expanduser()
    raise ValueError(f"data.source={source!r} must be mnist, idx:DIR or folder:DIR")


def load_split(source: str, root: str | Path, split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels uint8 [N]) of the ``train`` or ``test`` split of ``source``."""
    try:
        kind, folder = parse(source)
    except ValueError as e:
        raise InputDataError(str(e)) from None
    if kind == "mnist":
        return mnist.load_split(root, split, download=download)
    if split not in mnist.COUNTS:
        raise InputDataError(f"unknown split {split!r} (expected train or test)")
    if not folder.is_dir():
        raise InputDataError(f"data.source={source}: {folder} does not exist or is not a folder")
    return _idx_split(folder, split) if kind == "idx" else _folder_split(folder, split)


def _idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    paths = {}
    for what in ("images", "labels"):
        pattern = IDX_PATTERNS[(split, what)]
        found = sorted(
            p
            for d in (folder, folder / "raw")
            if d.is_dir()
            for p in d.iterdir()
            if p.is_file() and pattern.search(p.name)
        )
        if len(found) != 1:
            shown = "none" if not found else ", ".join(p.name for p in found)
            raise InputDataError(
                f"data.source=idx:{folder}: need one {split} {what} IDX file in {folder} or "
                f"{folder}/raw matching {pattern.pattern} (found {shown})"
            )
        paths[what] = found[0]
    # the header's count bounds what is read (a gzip bomb is never inflated whole)
    images = mnist.read_idx(paths["images"], mnist.IMAGE_MAGIC, _count(paths["images"]), what="IDX file")
    labels = mnist.read_idx(paths["labels"], mnist.LABEL_MAGIC, len(images), what="IDX file")
    if paths["images"].name.startswith("emnist"):
        images = np.ascontiguousarray(images.transpose(0, 2, 1))  # EMNIST stores each image transposed
    return images, labels


def _count(path: Path) -> int:
    header = mnist._read_bytes(path, 8, "IDX file")
    if len(header) < 8:
        raise InputDataError(f"IDX file {path} is truncated ({len(header)} bytes)")
    return int.from_bytes(header[4:8], "big")


def _class_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _labels(names: list[str]) -> list[int]:
    if all(n.isdigit() and int(n) <= 255 for n in names):
        return [int(n) for n in names]
    return list(range(len(names)))


def _folder_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    own = folder / split
    other = folder / ("test" if split == "train" else "train")
    if own.is_dir() and other.is_dir():
        classes, every = _class_folders(own), None
    else:
        classes, every = _class_folders(folder), TEST_EVERY
    if len(classes) < 2:
        raise GlyphFolderError(
            f"data.source=folder:{folder} holds {len(classes)} class subfolder(s); at least 2 are needed"
        )
    labels = _labels([c.name for c in classes])
    if len(set(labels)) != len(labels):
        raise GlyphFolderError(f"data.source=folder:{folder}: two class folders name the same label")
    images, out_labels = [], []
    for cls, label in zip(classes, labels, strict=True):
        files = sorted(p for p in cls.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if every is not None:
            files = [f for i, f in enumerate(files) if (i % every == every - 1) == (split == "test")]
        if not files:
            raise GlyphFolderError(
                f"data.source=folder:{folder}: class folder {cls} holds no {split} image ({'/'.join(SUFFIXES)})"
            )
        images += [mnist_like(read_grey(f), f) for f in files]
        out_labels += [label] * len(files)
    return np.stack(images), np.asarray(out_labels, dtype=np.uint8)
