"""What the concept stage reads: the rotating cubes of the model's own dataset (rendered once, by
`sla generate-cubes`) and the two new textures it back-projects. All checked before a run starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_gen import glyphs
from data_gen.mnist import load_split
from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.pipeline.registry import DATASET_FILES

FILES = DATASET_FILES  # what `sla generate-cubes` writes (the stage registry)
CUBE_FILES = (FILES.cubes_images, FILES.cubes_angles, FILES.cubes_contexts, FILES.cubes_compare_images)


@dataclass
class Cubes:
    images: np.ndarray  # uint8 [K, H, W]: cubes of `digit` on every face
    compare: np.ndarray  # uint8 [K, H, W]: cubes of `compare_digit` at the same yaws
    angles: np.ndarray  # float [K], degrees in [0, 90)
    contexts: np.ndarray  # int [K, 3]: the context of each face slot (top, side A, side B), -1 = hidden
    digit: int
    compare_digit: int
    faces: list[str]  # per context: 'side' or 'top'
    yaws: np.ndarray  # per context, degrees


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:  # a rehashed file that is not an .npy, or an object array
        raise DataError(f"{path} is unreadable or not a plain array ({str(e).splitlines()[0]})") from None


def load_cubes(dataset_dir: Path, manifest: dict) -> Cubes:
    """The dataset's cubes, each file checked against the manifest; a one-line DataError without them."""
    missing = [n for n in CUBE_FILES if n not in manifest.get("sha256", {})]
    if missing:
        raise DataError(
            f"{dataset_dir} has no rotating cubes ({', '.join(missing)}): the concept stage needs a "
            "dataset from `sla generate-cubes` with cubes.count > 0 and cubes.compare_digit set"
        )
    arrays = {n: _load(runfolder.verify_file(dataset_dir, manifest, n)) for n in CUBE_FILES}
    contexts = manifest.get("contexts", [])
    if not contexts or any("face" not in c or "yaw_deg" not in c for c in contexts):
        raise DataError(
            f"{dataset_dir}/manifest.json lists no context faces and yaws (not an `sla generate-cubes` dataset)"
        )
    images, compare = arrays[FILES.cubes_images], arrays[FILES.cubes_compare_images]
    if len(images) < 4 or compare.shape != images.shape or len(arrays[FILES.cubes_angles]) != len(images):
        raise DataError(f"{dataset_dir}: cube arrays disagree in shape or hold fewer than 4 cubes")
    return Cubes(
        images,
        compare,
        arrays[FILES.cubes_angles].astype(np.float64),
        arrays[FILES.cubes_contexts].astype(np.int64),
        int(manifest.get("cube_digit", -1)),
        int(manifest.get("compare_digit", -1)),
        [c["face"] for c in contexts],
        np.array([c["yaw_deg"] for c in contexts], dtype=np.float64),
    )


def train_images(dataset_dir: Path, manifest: dict) -> np.ndarray:
    """The dataset's training images uint8 [N, C, H, W], memory-mapped, after their sha256 (streamed
    once: a changed byte would shift the fitted latent density silently) and their shape are checked."""
    path = runfolder.verify_file(dataset_dir, manifest, FILES.train_images)
    try:
        images = np.load(path, mmap_mode="c", allow_pickle=False)  # copy-on-write: torch gets a writable view
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is unreadable or truncated ({str(e).splitlines()[0]})") from None
    if images.ndim != 4 or images.dtype != np.uint8 or len(images) < 2:
        raise DataError(f"{path} is {images.dtype} {images.shape}, expected uint8 [N >= 2, C, H, W]")
    return images


def new_textures(data_root: str, digit: int, glyph: str) -> dict[str, np.ndarray]:
    """The back-projected textures, uint8 [28, 28] each: the first MNIST test image of ``digit``
    (the model trained on training digits only) and a glyph no digit looks like."""
    images, labels = load_split(data_root, "test")
    first = np.flatnonzero(labels == digit)
    if not len(first):
        raise DataError(f"MNIST test split under {data_root} holds no digit {digit}")
    return {f"digit {digit}": images[first[0]], f"{glyph} glyph": glyphs.render(glyph)}


def default_source(faces: list[str], yaws: np.ndarray) -> int:
    """The side context nearest yaw 0: the face the camera sees most squarely."""
    side = [i for i, f in enumerate(faces) if f == "side"]
    pool = side or list(range(len(faces)))
    return int(min(pool, key=lambda i: abs(yaws[i])))
