"""Letters from installed fonts: fontconfig's list made one regular file per family, letters made
MNIST-like, draws seeded, and a one-line error naming the Debian packages when fonts are missing."""

import shutil

import numpy as np
import pytest

from data_gen import font_glyphs as F

FC_OUTPUT = "\n".join(
    [
        "Nimbus Sans\tBold\tCFF\t/f/NimbusSans-Bold.otf",
        "Nimbus Sans\tRegular\tType 1\t/f/NimbusSans-Regular.t1",
        "Nimbus Sans\tRegular\tCFF\t/f/NimbusSans-Regular.otf",
        "Nimbus Sans\tItalic\tCFF\t/f/NimbusSans-Italic.otf",
        "Z003\tMedium Italic\tType 1\t/f/Z003.t1",
        "Z003\tMedium Italic\tCFF\t/f/Z003.otf",
        "DejaVu Sans\tCondensed\tTrueType\t/f/DejaVuSansCondensed.ttf",
        "DejaVu Sans\tBook\tTrueType\t/f/DejaVuSans.ttf",
        "broken line without tabs",
        "",
    ]
)

needs_fonts = pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig absent (CI installs it)")


def installed_or_skip(n: int) -> list:
    """The installed typefaces, or a visible skip where the font packages are not installed."""
    try:
        return F.installed_typefaces(n)
    except F.FontGlyphError as e:
        pytest.skip(str(e))


def test_one_file_per_family_regular_and_outline_formats_first():
    faces = F.parse_fc_list(FC_OUTPUT)
    assert [(f.family, f.style, f.file) for f in faces] == [
        ("DejaVu Sans", "Book", "/f/DejaVuSans.ttf"),
        ("Nimbus Sans", "Regular", "/f/NimbusSans-Regular.otf"),  # not the Type 1 copy, not Bold
        ("Z003", "Medium Italic", "/f/Z003.otf"),  # a family with only an italic keeps it
    ]


def test_missing_fontconfig_or_too_few_fonts_name_the_packages(monkeypatch):
    monkeypatch.setattr(F.shutil, "which", lambda name: None)
    with pytest.raises(F.FontGlyphError) as err:
        F.installed_typefaces(12)
    assert "fc-list" in str(err.value) and "fonts-urw-base35" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setattr(F, "_fc_list", lambda: FC_OUTPUT)
    with pytest.raises(
        F.FontGlyphError,
        match="found 3 font families with Latin letters, 12 needed: install more, "
        "e.g. apt-get install fonts-urw-base35",
    ):
        F.installed_typefaces(12)
    assert len(F.installed_typefaces(3)) == 3


@needs_fonts
def test_installed_text_fonts_are_distinct_families_without_symbol_fonts():
    faces = installed_or_skip(2)
    families = [f.family for f in faces]
    assert len(set(families)) == len(families)
    assert not {"Standard Symbols PS", "D050000L"} & set(families)  # they claim A-Z but draw Greek and dingbats


@needs_fonts
def test_letters_are_mnist_like():
    face = installed_or_skip(2)[0]
    for letter in "AIOW":
        g = F.draw_letter(letter, face)
        assert g.shape == (28, 28) and g.dtype == np.uint8 and g.max() > 200
        rows, cols = np.nonzero(g > 0)
        assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21  # the 20x20 box (+ AA)
        assert max(rows.max() - rows.min(), cols.max() - cols.min()) >= 17  # scaled up to fill it
        ys, xs = np.indices(g.shape)
        w = g.astype(float)
        assert abs((ys * w).sum() / w.sum() - 13.5) < 1 and abs((xs * w).sum() / w.sum() - 13.5) < 1


@needs_fonts
def test_draws_are_seeded_and_a_letter_resembles_itself_across_typefaces():
    faces = installed_or_skip(12)
    a = F.draw_font_glyphs(6, 12, seed=3, faces=faces)
    assert a.images.shape == (6, 12, 28, 28) and a.letters == sorted(a.letters) and len(set(a.letters)) == 6
    assert len({f.family for f in a.typefaces}) == 12
    again = F.draw_font_glyphs(6, 12, seed=3, faces=faces)
    assert again.letters == a.letters and again.typefaces == a.typefaces and np.array_equal(again.images, a.images)
    other = F.draw_font_glyphs(6, 12, seed=4, faces=faces)
    assert (other.letters, other.typefaces) != (a.letters, a.typefaces)
    # real glyphs, not noise: the letter in other typefaces is nearest its prototype far above chance (1/6)
    flat = a.images.reshape(6, 12, -1).astype(float)
    protos = flat[:, 0]
    d = ((flat[:, 1:, None, :] - protos[None, None]) ** 2).sum(-1)  # [letter, typeface, prototype]
    assert (d.argmin(-1) == np.arange(6)[:, None]).mean() > 0.5


@pytest.mark.parametrize("letters, typefaces, message", [(1, 12, "letters"), (27, 12, "letters"), (5, 1, "typefaces")])
def test_bad_draw_sizes_raise(letters, typefaces, message):
    with pytest.raises(ValueError, match=message):
        F.draw_font_glyphs(letters, typefaces, 0, faces=[])
