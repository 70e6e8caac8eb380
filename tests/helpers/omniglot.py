"""A small folder in Omniglot's layout (alphabet/character/*.png) drawn from our own glyphs: black ink
on white at 105x105, as Omniglot's images are, each drawing turned a little more than the last."""

from __future__ import annotations

from PIL import Image

from data_gen.glyphs import render

ALPHABETS = {"Latin": ["character02", "character01"], "Runic": ["character01"]}
SHAPES = {"Latin/character01": "plus", "Latin/character02": "check", "Runic/character01": "zigzag"}


def write_omniglot(root, alphabets=ALPHABETS, drawings=3):
    """root/alphabet/character/character_NN.png for each character; returns root."""
    for alphabet, characters in alphabets.items():
        for c in characters:
            folder = root / alphabet / c
            folder.mkdir(parents=True)
            for i in range(drawings):
                g = render(SHAPES.get(f"{alphabet}/{c}", "pi"), angle_deg=5 * i)
                big = Image.fromarray(255 - g).resize((105, 105), Image.BICUBIC)  # black ink on white
                big.save(folder / f"{c}_{i:02d}.png")
    return root
