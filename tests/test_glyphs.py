import numpy as np
import pytest

from data_gen.glyphs import NAMES, glyph_set, random_glyphs, render


def test_glyphs_are_distinct_nonempty_mnist_format():
    glyphs = glyph_set()
    assert len(glyphs) >= 6 and {"check", "plus"} <= set(glyphs)
    for name, g in glyphs.items():
        assert g.shape == (28, 28) and g.dtype == np.uint8
        assert (g > 128).sum() >= 40, name  # visible strokes
        assert g[:2].max() < 16 and g[-2:].max() < 16, name  # MNIST-like margin (faint antialiasing at most)
    flat = np.stack([g.astype(float).ravel() for g in glyphs.values()])
    dist = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    assert dist[~np.eye(len(flat), dtype=bool)].min() > 500  # no two glyphs alike


def test_random_glyphs_are_repeatable_and_varied():
    a, names = random_glyphs(20, seed=3)
    b, _ = random_glyphs(20, seed=3)
    c, _ = random_glyphs(20, seed=4)
    assert a.shape == (20, 28, 28) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(names) == set(NAMES)
    assert not np.array_equal(a[0], render(names[0]))  # jittered, not the canonical drawing


def test_unknown_glyph_is_refused():
    with pytest.raises(ValueError, match="unknown glyph"):
        render("seven")
