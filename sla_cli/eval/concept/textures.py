"""Cubes of other textures at the test cubes' angles, for the paper's claim that the concept does not
depend on the texture: painted exactly as `sla generate-cubes` paints the dataset's cubes
(``data_gen.cubes.paint_cubes``, the dataset's camera and supersampling), one texture instance per
face slot as there. Digits come from the MNIST *test* split (no first-level member saw them; the
trained digit is among them, as the reference row); glyphs are ``data_gen.glyphs``' built-in shapes,
jittered per face (``random_glyphs``) as digits vary between instances.
"""

from __future__ import annotations

import numpy as np
import torch

from data_gen import glyphs
from data_gen.cubes import SLOTS, paint_cubes
from data_gen.mnist import load_split
from sla_cli.errors import DataError
from sla_cli.eval.model_dir import TrainedModel

STREAM = 13  # texture draws: their own random stream, one sub-stream per texture


def digit_name(d: int) -> str:
    return f"digit {d}"


def glyph_name(g: str) -> str:
    return f"{g} glyph"


def kind(name: str) -> str:
    """'glyph' or 'digit', from a texture's name."""
    return "glyph" if name.endswith(glyph_name("")) else "digit"


def face_textures(
    data_root: str, digits: list[int], glyph_names: list[str], n: int, seed: int
) -> dict[str, np.ndarray]:
    """uint8 [n, 3, 28, 28] per texture name: a seeded instance per face slot of n cubes."""
    out = {}
    if digits:
        images, labels = load_split(data_root, "test")
        for d in digits:
            pool = np.flatnonzero(labels == d)
            if not len(pool):
                raise DataError(f"MNIST test split under {data_root} holds no digit {d} (concept.texture_digits)")
            pick = np.random.default_rng([seed, STREAM, d]).choice(pool, size=(n, len(SLOTS)))
            out[digit_name(d)] = images[pick]
    for i, g in enumerate(glyph_names):
        drawn, _ = glyphs.random_glyphs(n * len(SLOTS), seed=seed * 1000 + STREAM * 100 + i, names=(g,))
        out[glyph_name(g)] = drawn.reshape(n, len(SLOTS), *drawn.shape[1:])
    return out


def paint(trained: TrainedModel, textures: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """uint8 cube images [n, H, W] at ``angles``, slot j of cube k painted with textures[k, j]."""
    ss = int(trained.dataset_manifest["config"]["render"]["supersample"])  # as generate-cubes painted
    tex = torch.from_numpy(np.ascontiguousarray(textures))
    return paint_cubes(tex, angles, trained.camera, ss, trained.masks.device).cpu().numpy()
