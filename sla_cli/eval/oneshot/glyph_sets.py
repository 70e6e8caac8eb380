"""The glyphs under test: the built-in drawings (data_gen.glyphs) or a user's folder of images."""

from __future__ import annotations

from data_gen.glyph_folder import GlyphFolderError, load_glyph_folder
from data_gen.glyphs import ONESHOT_NAMES, glyph_instances
from sla_cli.errors import DataError
from sla_cli.eval.oneshot.protocols import GlyphSet


def load_glyphs(glyphs_dir: str | None, instances: int, seed: int) -> GlyphSet:
    """Built in: every one-shot class, its canonical drawing then instances-1 jittered ones. A
    folder: its class subfolders, each class's first image (sorted by name) the prototype."""
    if glyphs_dir:
        try:
            names, per_class = load_glyph_folder(glyphs_dir)
        except GlyphFolderError as e:
            raise DataError(f"oneshot.glyphs_dir: {e}") from None
        return GlyphSet.from_classes(str(glyphs_dir), names, per_class)
    per_class = glyph_instances(ONESHOT_NAMES, per_class=instances, seed=seed)
    return GlyphSet.from_classes("builtin", list(ONESHOT_NAMES), list(per_class))
