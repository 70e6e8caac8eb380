"""A user's glyph folder -> MNIST-like 28x28 glyphs, with known answers from drawings we make here."""

import numpy as np
import pytest
from PIL import Image

from data_gen.glyph_folder import GlyphFolderError, load_glyph_folder, mnist_like
from data_gen.glyphs import render


def _big(name: str, size=(120, 90), dark_on_light=True, shift=(10, -5)) -> Image.Image:
    """The glyph drawn large, off centre, on a non-square canvas, in the given polarity."""
    g = Image.fromarray(render(name)).resize((84, 84), Image.BICUBIC)
    canvas = Image.new("L", size, 0)
    canvas.paste(g, ((size[0] - 84) // 2 + shift[0], (size[1] - 84) // 2 + shift[1]))
    a = np.asarray(canvas)
    return Image.fromarray(255 - a if dark_on_light else a)


def _cos(a, b):
    a, b = a.astype(float).ravel(), b.astype(float).ravel()
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_mnist_like_fits_20_box_and_centres_by_mass():
    rng = np.random.default_rng(0)
    ink = np.zeros((60, 200), np.float32)
    ink[20:30, 10:190] = 1  # a wide bar far from the centre
    out = mnist_like(ink + rng.uniform(0, 0.05, ink.shape))  # faint noise must not widen the crop
    rows, cols = np.nonzero(out > 25)
    assert cols.max() - cols.min() + 1 in (19, 20, 21) and rows.max() - rows.min() + 1 <= 3
    ys, xs = np.indices(out.shape)
    m = out.astype(float)
    assert abs((ys * m).sum() / m.sum() - 13.5) <= 0.6 and abs((xs * m).sum() / m.sum() - 13.5) <= 0.6


def test_folder_loads_both_polarities_colour_and_transparency_alike(tmp_path):
    for cls in ("plus", "check"):
        (tmp_path / cls).mkdir()
        _big(cls, dark_on_light=True).convert("RGB").save(tmp_path / cls / "a.png")
        _big(cls, dark_on_light=False).save(tmp_path / cls / "b.jpg", quality=90)
        ink = np.asarray(_big(cls, dark_on_light=False))
        rgba = np.zeros((*ink.shape, 4), np.uint8)
        rgba[..., 2], rgba[..., 3] = 200, ink  # blue ink on a transparent background
        Image.fromarray(rgba, "RGBA").save(tmp_path / cls / "c.png")
    (tmp_path / "plus" / "notes.txt").write_text("not an image: ignored")
    names, images = load_glyph_folder(tmp_path)
    assert names == ["check", "plus"]
    for k, name in enumerate(names):
        assert images[k].shape == (3, 28, 28) and images[k].dtype == np.uint8
        for img in images[k]:
            assert _cos(img, render(name)) > 0.85, name  # the drawing comes back, MNIST-placed
            assert _cos(img, render(names[1 - k])) < 0.6
        assert _cos(images[k][0], images[k][1]) > 0.95 and _cos(images[k][0], images[k][2]) > 0.95


@pytest.mark.parametrize("case", ["one_class", "one_image", "unreadable", "missing", "blank"])
def test_bad_folders_name_the_path(tmp_path, case):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            _big("plus").save(tmp_path / cls / f"{i}.png")
    bad = {
        "one_class": tmp_path / "b",
        "one_image": tmp_path / "b" / "1.png",
        "unreadable": tmp_path / "b" / "1.png",
        "missing": tmp_path / "nowhere",
        "blank": tmp_path / "b" / "1.png",
    }[case]
    folder = tmp_path / "nowhere" if case == "missing" else tmp_path
    if case == "one_class":
        for f in bad.iterdir():
            f.unlink()
        bad.rmdir()
        bad = tmp_path
    elif case == "one_image":
        bad.unlink()
        bad = tmp_path / "b"
    elif case == "unreadable":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    elif case == "blank":
        Image.new("L", (40, 40), 255).save(bad)
    with pytest.raises(GlyphFolderError) as err:
        load_glyph_folder(folder)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
