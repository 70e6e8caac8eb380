"""The glyphs under test, one draw per glyph seed (``oneshot.glyphs``):

builtin  the built-in drawings (data_gen.glyphs): each class's canonical drawing is its prototype,
         its new instances are jittered copies (rotation, scale, shift, stroke width);
fonts    letters from installed fonts (data_gen.font_glyphs): the prototype is the letter in one
         typeface, the new instances the same letter in the other typefaces;
dir      a user's folder: class subfolders of images, or Omniglot's alphabet/character/*.png; each
         class's first image (by name) is the prototype;
auto     dir when oneshot.glyphs_dir is given, else builtin (what glyphs_dir always meant).

A seed draws which classes (letters, folder classes) and typefaces take part, and the jitters.
Everything is read here, before the run folder opens: a bad input leaves nothing behind.
"""

from __future__ import annotations

import numpy as np

from data_gen.font_glyphs import LETTERS, FontGlyphError, draw_font_glyphs, installed_typefaces
from data_gen.glyph_folder import GlyphFolderError, load_glyph_folder
from data_gen.glyphs import ONESHOT_NAMES, glyph_instances
from data_gen.omniglot import is_omniglot, omniglot_characters, read_character
from sla_cli.errors import DataError
from sla_cli.eval.oneshot.protocols import GlyphSet
from sla_cli.runtime import console

MAX_CLASSES = {"builtin": len(ONESHOT_NAMES), "fonts": len(LETTERS)}  # a folder: however many it holds


def glyph_mode(oneshot) -> str:
    if oneshot.glyphs == "auto":
        return "dir" if oneshot.glyphs_dir else "builtin"
    return oneshot.glyphs


def load_draws(oneshot, seeds: list[int]) -> list[GlyphSet]:
    """One GlyphSet per glyph seed; a one-line DataError naming the key when the source is unusable."""
    mode = glyph_mode(oneshot)
    if mode == "builtin":
        names = ONESHOT_NAMES[: oneshot.classes or len(ONESHOT_NAMES)]  # check and plus first: the paper's pair
        return [
            GlyphSet.from_classes("builtin", list(names), list(glyph_instances(names, oneshot.instances, s)), seed=s)
            for s in seeds
        ]
    if mode == "fonts":
        try:
            faces = installed_typefaces(oneshot.typefaces)
            return [_font_draw(oneshot, s, faces) for s in seeds]
        except FontGlyphError as e:
            raise DataError(f"oneshot.glyphs=fonts: {e}") from None
    try:
        return _folder_draws(str(oneshot.glyphs_dir), oneshot.classes, seeds)
    except GlyphFolderError as e:
        raise DataError(f"oneshot.glyphs_dir: {e}") from None


def _font_draw(oneshot, seed: int, faces) -> GlyphSet:
    draw = draw_font_glyphs(oneshot.classes or len(LETTERS), oneshot.typefaces, seed, faces)
    return GlyphSet.from_classes(
        "fonts",
        draw.letters,
        list(draw.images),
        seed=seed,
        prototype_typeface=draw.typefaces[0].family,
        typefaces=[f.as_dict() for f in draw.typefaces],
    )


def _chosen(n: int, wanted: int | None, seed: int) -> np.ndarray:
    """Which of n classes take part: all when ``wanted`` is null or n or more, else a seeded draw (sorted)."""
    if wanted is None or wanted >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, wanted, replace=False))


def _folder_draws(folder: str, wanted: int | None, seeds: list[int]) -> list[GlyphSet]:
    omniglot = is_omniglot(folder)
    if omniglot:
        characters = omniglot_characters(folder)
        names = [name for name, _ in characters]
    else:
        names, per_class = load_glyph_folder(folder)
    if wanted is not None and wanted > len(names):
        console.print(f"[yellow]oneshot.classes={wanted} but {folder} holds {len(names)} classes: using all of them")
    read: dict[int, np.ndarray] = {}  # Omniglot characters read so far (draws may share some)
    draws = []
    for s in seeds:
        rows = _chosen(len(names), wanted, s)
        if omniglot:
            read.update({i: read_character(characters[i][1]) for i in rows if i not in read})
        images = [read[i] if omniglot else per_class[i] for i in rows]
        draws.append(
            GlyphSet.from_classes(
                folder, [names[i] for i in rows], images, seed=s, layout="omniglot" if omniglot else "class folders"
            )
        )
    return draws
