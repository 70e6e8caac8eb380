"""A user's own glyphs: a folder of class subfolders of image files, made MNIST-like.

Each image (PNG or JPEG, any size, colour or grey, dark-on-light or light-on-dark) becomes a 28x28
uint8 white-on-black glyph the way MNIST's digits were made: the ink is cropped to its bounding
box, scaled (aspect kept, antialiased) to fit a 20x20 box, and pasted into the 28x28 frame with its
centre of mass at the frame's centre.

Errors are ``GlyphFolderError``, an ``InputDataError`` naming the path (the CLI prints it in one line).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from data_gen.errors import InputDataError

SUFFIXES = (".png", ".jpg", ".jpeg")
SIZE, BOX = 28, 20
INK_LEVEL = 0.1  # of the brightest ink: fainter pixels (JPEG noise, paper grain) do not widen the crop
# A glyph or anomaly image is far smaller than this; a header claiming more is refused before any
# pixel is decoded (a 74-byte PNG can claim 100000x100000: a decompression bomb).
MAX_PIXELS = 4096 * 4096


class GlyphFolderError(InputDataError, ValueError):
    """A glyph folder that cannot be used; the message names the offending path."""


def load_glyph_folder(folder: str | Path) -> tuple[list[str], list[np.ndarray]]:
    """(class names sorted, per class uint8 [n_i, 28, 28] in sorted file order; n_i >= 2)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GlyphFolderError(f"glyph folder {folder} does not exist or is not a folder")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise GlyphFolderError(f"glyph folder {folder} holds {len(classes)} class subfolder(s); at least 2 are needed")
    images = []
    for cls in classes:
        files = sorted(p for p in cls.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if len(files) < 2:
            raise GlyphFolderError(
                f"glyph class folder {cls} holds {len(files)} image(s) "
                f"({'/'.join(SUFFIXES)}); at least 2 are needed (a prototype and a probe)"
            )
        images.append(np.stack([mnist_like(read_grey(f), f) for f in files]))
    return [c.name for c in classes], images


def open_image(path: Path) -> Image.Image:
    """``Image.open`` that refuses (ValueError) an image whose header claims more than MAX_PIXELS,
    before anything is decoded; PIL's own bomb check is an error too, never a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ValueError(f"too large to be an image of a glyph: {e}") from None
    width, height = im.size
    if width * height > MAX_PIXELS:
        im.close()
        raise ValueError(f"{width}x{height} pixels, more than the {MAX_PIXELS:,} read")
    return im


def read_grey(path: Path) -> np.ndarray:
    """float [H, W] in 0..1, ink bright: transparency is taken as the ink where an image has it,
    otherwise grey levels, inverted when the border (the background) is light."""
    try:
        with open_image(path) as im:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                alpha = np.asarray(im.convert("RGBA"))[..., 3].astype(np.float32) / 255
                if alpha.min() < 0.99:  # a drawing on a transparent background: the alpha is the ink
                    return alpha
            grey = np.asarray(im.convert("L")).astype(np.float32) / 255
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise GlyphFolderError(f"glyph image {path} is unreadable ({str(e).splitlines()[0]})") from None
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1 - grey if np.median(border) > 0.5 else grey


def mnist_like(ink: np.ndarray, path: Path | str = "image") -> np.ndarray:
    """float ink [H, W] (bright on dark) -> uint8 [28, 28]: background removed, fit in 20x20, centred by mass."""
    border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    ink = np.clip(ink - np.median(border), 0, None)  # a grey (or JPEG-noisy) background becomes black
    if ink.max() <= 0:
        raise GlyphFolderError(f"glyph image {path} is blank (no ink distinct from its background)")
    ink = ink / ink.max()
    rows, cols = np.nonzero(ink > INK_LEVEL)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = ink.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL's (width, height)
    box = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.LANCZOS), dtype=np.float32)
    mass = box.sum()
    ys, xs = np.indices(box.shape)
    cy, cx = (ys * box).sum() / mass, (xs * box).sum() / mass
    # Place the box so its centre of mass lands on the frame's centre (pixel 13.5), clipped to the frame.
    top, left = round((SIZE - 1) / 2 - cy), round((SIZE - 1) / 2 - cx)
    top, left = min(max(top, 0), SIZE - box.shape[0]), min(max(left, 0), SIZE - box.shape[1])
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + box.shape[0], left : left + box.shape[1]] = box
    return np.clip(out, 0, 255).round().astype(np.uint8)
