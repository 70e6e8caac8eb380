"""The oracle pixel NN (prototype and probe compared as flat 28x28 glyphs) against a nearest
prototype worked out by hand on a tiny glyph set, and the tally's pooling, intervals and differences."""

import numpy as np
import pytest
import torch

from sla_cli.eval.oneshot import protocols as P
from sla_cli.eval.oneshot.measure import ORACLE, OURS, Tally, oracle_space

C = 4  # contexts


def _tiny_glyphs():
    """3 classes of 3 instances: prototypes are three bars; new instances are their bar shifted by a
    pixel, except that one instance of class 0 (row 2) is drawn as class 1's bar: the oracle must miss it."""

    def bar(row: int, col: int, vertical: bool) -> np.ndarray:
        g = np.zeros((28, 28), np.uint8)
        if vertical:
            g[4:24, col : col + 3] = 255
        else:
            g[row : row + 3, 4:24] = 255
        return g

    per_class = [
        np.stack([bar(0, 12, True), bar(0, 13, True), bar(13, 0, False)]),
        np.stack([bar(13, 0, False), bar(14, 0, False), bar(12, 0, False)]),
        np.stack([bar(0, 4, True), bar(0, 5, True), bar(0, 3, True)]),
    ]
    return P.GlyphSet.from_classes("tiny", ["check", "plus", "pi"], per_class)


def _by_hand(glyphs: P.GlyphSet, probe_rows) -> list[bool]:
    """Nearest prototype with plain loops over pixels: is each probe's nearest prototype its own class's?"""
    right = []
    for r in probe_rows:
        best, best_d = None, None
        for k, proto in enumerate(glyphs.prototypes):
            d = sum(
                (float(a) - float(b)) ** 2
                for a, b in zip(glyphs.images[r].ravel() / 255, glyphs.images[proto].ravel() / 255, strict=True)
            )
            if best_d is None or d < best_d:
                best, best_d = k, d
        right.append(best == glyphs.labels[r])
    return right


def test_oracle_row_matches_nearest_prototype_by_hand():
    glyphs = _tiny_glyphs()
    protos = P.protocols(glyphs)
    new = protos[2]
    hand = _by_hand(glyphs, new.probe_rows)
    assert hand == [True, False, True, True, True, True]  # the tiny set is built so: row 2 looks like class 1
    tally = Tally(np.array([1]), C)
    tally.add(ORACLE, oracle_space(glyphs.images, torch.device("cpu")), protos)
    s = tally.summary(ORACLE, "new_instances", seed=0)
    assert s["mean_accuracy"] == round(np.mean(hand), 4) == round(5 / 6, 4)
    assert s["per_context_accuracy"] == [round(5 / 6, 4)] * C  # the flat glyphs look the same from every context
    assert s["contexts_all_correct"] == 0 and s["other_contexts"] == C - 1 and s["n_probes"] == 6
    assert s["ci95"][0] <= 5 / 6 <= s["ci95"][1] < 1.0 + 1e-9 and s["ci95"][0] < 0.8
    same = tally.summary(ORACLE, "same_instance", seed=0)
    assert same["mean_accuracy"] == 1.0 and same["contexts_all_correct"] == C - 1  # a prototype is its own NN


def test_ours_minus_the_oracle_on_the_same_probes():
    glyphs = _tiny_glyphs()
    protos = P.protocols(glyphs)
    centres = np.eye(3) * 10
    perfect = torch.tensor(np.repeat(centres[glyphs.labels][None], C, 0), dtype=torch.float32)  # every probe right
    tally = Tally(np.array([1]), C)
    tally.add(OURS, perfect, protos)
    tally.add(ORACLE, oracle_space(glyphs.images, torch.device("cpu")), protos)
    diff = tally.ours_minus(ORACLE, seed=0)["new_instances"]
    assert diff["difference"] == round(1 / 6, 4)
    assert diff["ci95"][0] == 0.0 and diff["ci95"][1] >= 1 / 6  # one probe of six: the interval reaches 0
    assert tally.ours_minus(ORACLE, seed=0)["same_instance"] == {"difference": 0.0, "ci95": [0.0, 0.0]}


def test_draws_pool_probe_weighted_with_per_draw_means():
    glyphs = _tiny_glyphs()
    protos = P.protocols(glyphs)
    tally = Tally(np.array([0]), C)
    tally.add(ORACLE, oracle_space(glyphs.images, torch.device("cpu")), protos)  # 5/6
    fixed = glyphs.images.copy()
    fixed[2] = glyphs.images[1]  # a second draw where the odd instance is a proper class-0 bar
    tally.add(ORACLE, oracle_space(fixed, torch.device("cpu")), protos)  # 6/6
    s = tally.summary(ORACLE, "new_instances", seed=0)
    assert s["per_draw_mean_accuracy"] == [round(5 / 6, 4), 1.0] and s["n_probes"] == 12
    assert s["mean_accuracy"] == round(11 / 12, 4)
    values, groups = tally.per_probe(ORACLE, "new_instances")
    assert list(groups) == [0] * 6 + [1] * 6 and values.sum() == 11


@pytest.mark.parametrize("sources", [[2], [0, 1, 2, 3]])
def test_one_context_space_stands_for_every_context(sources):
    glyphs = _tiny_glyphs()
    new = P.protocols(glyphs)[2]
    flat = oracle_space(glyphs.images, torch.device("cpu"))
    tally = Tally(np.array(sources), C)
    tally.add(ORACLE, flat, [new])
    tiled = Tally(np.array(sources), C)
    tiled.add(ORACLE, flat.expand(C, -1, -1), [new])  # the same glyphs given to each context explicitly
    np.testing.assert_array_equal(tally.correct[ORACLE]["new_instances"][0], tiled.correct[ORACLE]["new_instances"][0])
