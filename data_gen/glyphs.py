"""Novel, non-digit glyphs drawn with PIL at MNIST's format (28x28 uint8, white on black, about a
20x20 box): the paper's figure 8 check sign and plus, and more shapes no digit looks like.

Drawn as strokes on a 4x canvas and downsampled with antialiasing, so their strokes resemble
MNIST pen strokes. ``NAMES`` (8 shapes) are `sla classify`'s anomalies, unchanged so its numbers
stay comparable; ``ONESHOT_NAMES`` adds two more for `sla eval oneshot`'s 10-way tests.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SCALE = 4
SIZE = 28
# Strokes in MNIST's 20x20 box coordinates (4..24); each glyph is a list of polylines.
_SHAPES: dict[str, list[list[tuple[float, float]]]] = {
    "check": [[(5, 14), (10, 21), (23, 5)]],
    "plus": [[(14, 5), (14, 23)], [(5, 14), (23, 14)]],
    "cross": [[(6, 6), (22, 22)], [(22, 6), (6, 22)]],
    "triangle": [[(14, 5), (23, 22), (5, 22), (14, 5)]],
    "square": [[(6, 6), (22, 6), (22, 22), (6, 22), (6, 6)]],
    "arrow": [[(22, 6), (6, 22)], [(6, 12), (6, 22), (16, 22)]],
    "hash": [[(10, 5), (9, 23)], [(18, 5), (17, 23)], [(5, 10), (23, 10)], [(5, 18), (23, 18)]],
    "star": [[(14, 4), (19.5, 21), (5, 10.5), (23, 10.5), (8.5, 21), (14, 4)]],
    "zigzag": [[(5, 7), (9.5, 21), (14, 9), (18.5, 21), (23, 7)]],
    "pi": [[(5, 7), (23, 7)], [(10, 7), (9, 22)], [(18, 7), (20, 22)]],
}
NAMES = ("check", "plus", "cross", "triangle", "square", "arrow", "hash", "star")
ONESHOT_NAMES = (*NAMES, "zigzag", "pi")  # check and plus first: the paper's two-way test


def _transform(points, angle: float, scale: float, shift: tuple[float, float]):
    c, s = math.cos(angle), math.sin(angle)
    out = []
    for x, y in points:
        dx, dy = (x - 14) * scale, (y - 14) * scale
        out.append(((14 + c * dx - s * dy + shift[0]) * SCALE, (14 + s * dx + c * dy + shift[1]) * SCALE))
    return out


def render(
    name: str, angle_deg: float = 0.0, scale: float = 1.0, shift: tuple[float, float] = (0.0, 0.0), width: float = 2.2
) -> np.ndarray:
    """One glyph as uint8 [28, 28]; ``width`` is the stroke width in output pixels."""
    if name not in _SHAPES:
        raise ValueError(f"unknown glyph {name!r} (known: {', '.join(_SHAPES)})")
    canvas = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 0)
    draw = ImageDraw.Draw(canvas)
    w = max(1, round(width * SCALE))
    for line in _SHAPES[name]:
        pts = _transform(line, math.radians(angle_deg), scale, shift)
        draw.line(pts, fill=255, width=w, joint="curve")
        for x, y in pts:  # round caps, as a pen leaves
            draw.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=255)
    return np.asarray(canvas.resize((SIZE, SIZE), Image.LANCZOS), dtype=np.uint8)


def glyph_set(names: tuple[str, ...] = NAMES) -> dict[str, np.ndarray]:
    """The canonical drawing of each glyph."""
    return {n: render(n) for n in names}


def random_glyphs(n: int, seed: int = 0, names: tuple[str, ...] = NAMES) -> tuple[np.ndarray, list[str]]:
    """n jittered glyphs (rotation +-15 deg, scale 0.8-1.1, shift +-2 px, stroke 1.6-2.8 px), cycling
    through ``names``; returns (uint8 [n, 28, 28], the name of each)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(n):
        name = names[i % len(names)]
        images.append(_jittered(name, rng))
        labels.append(name)
    return np.stack(images) if images else np.zeros((0, SIZE, SIZE), np.uint8), labels


def _jittered(name: str, rng: np.random.Generator) -> np.ndarray:
    return render(
        name, rng.uniform(-15, 15), rng.uniform(0.8, 1.1), tuple(rng.uniform(-2, 2, 2)), rng.uniform(1.6, 2.8)
    )


def glyph_instances(names: tuple[str, ...] = ONESHOT_NAMES, per_class: int = 10, seed: int = 0) -> np.ndarray:
    """uint8 [K, per_class, 28, 28]: per class, the canonical drawing first (the one-shot prototype),
    then per_class - 1 jittered instances (as in ``random_glyphs``) drawn class by class."""
    rng = np.random.default_rng(seed)
    return np.stack([np.stack([render(n)] + [_jittered(n, rng) for _ in range(per_class - 1)]) for n in names])
