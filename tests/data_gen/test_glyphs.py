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


def test_oneshot_set_has_ten_distinct_classes_and_keeps_the_ood_set():
    from data_gen.glyphs import ONESHOT_NAMES, glyph_instances

    assert len(ONESHOT_NAMES) >= 10 and ONESHOT_NAMES[:2] == ("check", "plus")
    assert ONESHOT_NAMES[: len(NAMES)] == NAMES and len(NAMES) == 8  # sla classify's anomalies are unchanged
    flat = np.stack([render(n).astype(float).ravel() for n in ONESHOT_NAMES])
    dist = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    assert dist[~np.eye(len(flat), dtype=bool)].min() > 500
    inst = glyph_instances(per_class=4, seed=1)
    assert inst.shape == (len(ONESHOT_NAMES), 4, 28, 28) and inst.dtype == np.uint8
    for k, name in enumerate(ONESHOT_NAMES):
        assert np.array_equal(inst[k, 0], render(name))  # the prototype is the canonical drawing
        assert not np.array_equal(inst[k, 1], inst[k, 2])
    assert np.array_equal(inst, glyph_instances(per_class=4, seed=1))
    # jittered instances stay nearer their own class's drawing than any other class's, on average
    own = np.linalg.norm(inst[:, 1:].astype(float).reshape(len(flat), 3, -1) - flat[:, None], axis=-1).mean()
    assert own < dist[~np.eye(len(flat), dtype=bool)].mean()
