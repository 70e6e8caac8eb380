"""Omniglot's alphabet/character/*.png layout, written from our own drawings (helpers.omniglot):
recognised, listed sorted, read MNIST-like; too few characters or drawings fail
in one line naming the folder."""

import numpy as np
import pytest
from PIL import Image

from data_gen.glyph_folder import GlyphFolderError
from data_gen.glyphs import render
from data_gen.omniglot import is_omniglot, omniglot_characters, read_character
from helpers.omniglot import write_omniglot


def test_layout_is_recognised_listed_and_read(tmp_path):
    root = write_omniglot(tmp_path / "images_background")
    assert is_omniglot(root) and not is_omniglot(root / "Latin") and not is_omniglot(tmp_path / "missing")
    found = omniglot_characters(root)
    assert [name for name, _ in found] == ["Latin/character01", "Latin/character02", "Runic/character01"]
    assert [f.name for f in found[0][1]] == ["character01_00.png", "character01_01.png", "character01_02.png"]
    images = read_character(found[1][1])
    assert images.shape == (3, 28, 28) and images.dtype == np.uint8
    assert images[:, 0].max() == 0 and images.max() > 200  # inverted to white on black, border background
    # the check drawn upright is the prototype: closer to our own check than to the plus
    proto = images[0].astype(float).ravel()
    assert np.linalg.norm(proto - render("check").ravel()) < np.linalg.norm(proto - render("plus").ravel())


def test_a_plain_class_folder_is_not_omniglot(tmp_path):
    (tmp_path / "plus").mkdir()
    Image.fromarray(render("plus")).save(tmp_path / "plus" / "0.png")
    assert not is_omniglot(tmp_path)


@pytest.mark.parametrize(
    "alphabets, drawings, named, message",
    [
        ({"Latin": ["character01"]}, 3, "", "holds 1 character(s)"),
        ({"Latin": ["character01", "character02"]}, 1, "Latin/character01", "holds 1 image(s)"),
    ],
)
def test_too_few_characters_or_drawings_fail_in_one_line(tmp_path, alphabets, drawings, named, message):
    root = write_omniglot(tmp_path / "omni", alphabets, drawings)
    with pytest.raises(GlyphFolderError) as err:
        omniglot_characters(root)
    text = str(err.value)
    assert message in text and str(root / named).rstrip("/") in text and "\n" not in text
