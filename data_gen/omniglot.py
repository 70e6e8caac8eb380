"""Omniglot's layout, ``alphabet/character/*.png`` (e.g. the ``images_background`` folder), as glyph
classes: each character is a class named ``alphabet/character``, its drawings (by 20 people in
Omniglot) the instances, the first by file name the prototype.

Characters are listed first and read only once chosen (Omniglot holds about 1600 characters and
32000 images; a one-shot test uses a handful). Each image is made MNIST-like exactly as a plain
glyph folder's are (data_gen.glyph_folder: read_grey, then mnist_like).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_gen.glyph_folder import SUFFIXES, GlyphFolderError, mnist_like, read_grey

LAYOUT = "alphabet/character/*.png"


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def is_omniglot(folder: str | Path) -> bool:
    """True when the folder's subfolders hold no images themselves but subfolders (alphabets of characters)."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    tops = _subfolders(folder)
    return bool(tops) and not any(_images(t) for t in tops) and any(_subfolders(t) for t in tops)


def omniglot_characters(folder: str | Path) -> list[tuple[str, list[Path]]]:
    """Every character as (``alphabet/character``, its image files sorted), alphabets and characters sorted;
    a GlyphFolderError naming the folder when fewer than 2 characters or a character with < 2 images."""
    folder = Path(folder)
    found = [(f"{a.name}/{c.name}", _images(c)) for a in _subfolders(folder) for c in _subfolders(a)]
    if len(found) < 2:
        raise GlyphFolderError(
            f"Omniglot folder {folder} holds {len(found)} character(s) ({LAYOUT}); "
            "at least 2 are needed for a one-shot test"
        )
    for name, files in found:
        if len(files) < 2:
            raise GlyphFolderError(
                f"Omniglot character folder {folder / name} holds {len(files)} image(s) "
                f"({'/'.join(SUFFIXES)}); at least 2 are needed (a prototype and a probe)"
            )
    return found


def read_character(files: list[Path]) -> np.ndarray:
    """uint8 [len(files), 28, 28]: each drawing made MNIST-like (Omniglot's black ink on white is inverted)."""
    return np.stack([mnist_like(read_grey(f), f) for f in files])
