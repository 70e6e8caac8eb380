"""Read the four MNIST IDX files (gzip or raw), checking magic numbers, counts and shapes.

Files are looked up as torchvision lays them out, ``<root>/MNIST/raw/<name>[.gz]``; ``<root>``
itself is also searched so a folder holding the four files works as well.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from data_gen.errors import InputDataError

FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
COUNTS = {"train": 60000, "test": 10000}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


def _missing_message(root: Path, names: list[str]) -> str:
    return (
        f"MNIST not found under {root}/MNIST/raw: need {', '.join(names)} (gzip or raw); "
        "set run.data_root=DIR or SLA_DATA_ROOT=DIR to the folder that holds MNIST/raw, "
        "or pass run.download=true to fetch it there (needs internet)"
    )


def find_file(root: Path, name: str) -> Path | None:
    for folder in (root / "MNIST" / "raw", root):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_bytes(path: Path, limit: int | None = None, what: str = "MNIST file") -> bytes:
    """The file's bytes (decompressed), at most ``limit`` of them: a gzip bomb is never inflated whole."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read(-1 if limit is None else limit)
        with open(path, "rb") as f:
            return f.read(-1 if limit is None else limit)
    except PermissionError:
        raise InputDataError(f"{what} {path} cannot be read: permission denied") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:  # a cut or damaged compressed stream
        raise InputDataError(f"{what} {path} is truncated or corrupt ({type(e).__name__}: {e})") from None
    except OSError as e:
        raise InputDataError(f"{what} {path} cannot be read ({e.strerror or e})") from None


def read_idx(
    path: Path, magic: int, count: int | None = None, first: int | None = None, what: str = "MNIST file"
) -> np.ndarray:
    """One IDX file as a uint8 array; checks magic, declared shape against size, and count.
    ``first``: only the first ``first`` items are read (and decompressed); else the whole file,
    never more than its expected size plus one byte when ``count`` is given."""
    header = 16 if magic == IMAGE_MAGIC else 8
    item = 28 * 28 if magic == IMAGE_MAGIC else 1  # any other image size is refused below
    limit = header + first * item if first is not None else header + count * item + 1 if count is not None else None
    data = _read_bytes(path, limit, what)
    if len(data) < 8:
        raise InputDataError(f"{what} {path} is truncated ({len(data)} bytes)")
    found_magic, n = struct.unpack(">II", data[:8])
    if found_magic != magic:
        raise InputDataError(f"{what} {path} has wrong magic number {found_magic} (expected {magic})")
    dims = [n if first is None else min(n, first)]
    if magic == IMAGE_MAGIC:
        if len(data) < 16:
            raise InputDataError(f"{what} {path} is truncated ({len(data)} bytes)")
        rows, cols = struct.unpack(">II", data[8:16])
        if (rows, cols) != (28, 28):
            raise InputDataError(f"{what} {path} holds {rows}x{cols} images (expected 28x28)")
        dims += [rows, cols]
    if count is not None and n != count:
        raise InputDataError(f"{what} {path} holds {n} items (expected {count})")
    expected = header + int(np.prod(dims))
    if len(data) < expected or (first is None and len(data) != expected):
        raise InputDataError(f"{what} {path} is truncated or corrupt: {len(data)} bytes, expected {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header, count=expected - header).reshape(dims)


def load_split(root: str | Path, split: str, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 28, 28], labels uint8 [N]) of the ``train`` or ``test`` split."""
    if split not in COUNTS:
        raise InputDataError(f"unknown MNIST split {split!r} (expected train or test)")
    root = Path(root).expanduser()
    paths = {kind: find_file(root, FILES[(split, kind)]) for kind in ("images", "labels")}
    if None in paths.values() and download:
        _download(root)
        paths = {kind: find_file(root, FILES[(split, kind)]) for kind in ("images", "labels")}
    missing = [FILES[(split, kind)] for kind, path in paths.items() if path is None]
    if missing:
        if not any(find_file(root, name) for name in FILES.values()):
            missing = list(FILES.values())  # none there at all: the user needs all four
        raise InputDataError(_missing_message(root, missing))
    images = read_idx(paths["images"], IMAGE_MAGIC, COUNTS[split])
    labels = read_idx(paths["labels"], LABEL_MAGIC, COUNTS[split])
    if labels.max() > 9:
        raise InputDataError(f"MNIST file {paths['labels']} holds a label above 9")
    return images, labels


def _download(root: Path) -> None:
    """Let torchvision fetch the official files (needs internet; off unless run.download=true)."""
    try:
        from torchvision.datasets import MNIST

        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)
    except Exception as e:  # network errors come in many types; all mean the same to the user
        raise InputDataError(
            f"could not download MNIST into {root} ({type(e).__name__}); {_missing_message(root, list(FILES.values()))}"
        ) from None
