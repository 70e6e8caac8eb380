"""The one-shot core on synthetic latent spaces with a known answer: contexts that share the space
classify every probe right; contexts whose code is permuted (a private, unshared space) get all wrong."""

import numpy as np
import pytest
import torch

from sla_cli.eval.oneshot import protocols as P
from sla_cli.eval.oneshot.distances import distance_samples, distance_stats

C, K, M = 10, 3, 4  # contexts, classes, instances per class
BAD = (5, 7)  # contexts with a permuted latent code


def _space(jitter=0.5, seed=0):
    rng = np.random.default_rng(seed)
    centres = 10 * np.eye(K)
    per_class = [rng.integers(0, 255, (M, 28, 28)).astype(np.uint8) for _ in range(K)]
    glyphs = P.GlyphSet.from_classes("builtin", ["plus", "zigzag", "check"], per_class)
    z = centres[glyphs.labels] + rng.normal(0, jitter, (len(glyphs.labels), K))
    z[glyphs.prototypes] = centres  # prototypes at the centres: probes' jitter is all the noise
    space = np.repeat(z[None], C, axis=0)
    for b in BAD:
        space[b] = np.roll(space[b], 1, axis=-1)  # class k's code looks like class k+1's
    return glyphs, torch.tensor(space, dtype=torch.float32)


def test_glyph_set_and_protocol_rows():
    glyphs, _ = _space()
    assert list(glyphs.prototypes) == [0, 4, 8] and list(glyphs.labels[:5]) == [0, 0, 0, 0, 1]
    paper, same, new = P.protocols(glyphs)
    assert list(paper.classes) == [2, 0]  # check, plus found by name
    assert list(paper.probe_rows) == [8, 0] and list(paper.probe_class) == [0, 1]
    assert list(same.probe_rows) == [0, 4, 8]
    assert len(new.probe_rows) == K * (M - 1) and not set(new.probe_rows) & {0, 4, 8}
    assert list(new.probe_class) == list(glyphs.labels[new.probe_rows])


@pytest.mark.parametrize("protocol", [0, 1, 2])
def test_accuracy_one_source_fails_exactly_in_unshared_contexts(protocol):
    glyphs, space = _space()
    acc = P.accuracy_matrix(space, torch.tensor([2]), P.protocols(glyphs)[protocol]).numpy()
    expected = np.array([0.0 if c in BAD else 1.0 for c in range(C)])
    np.testing.assert_array_equal(acc[0], expected)
    s = P.summarize(acc, np.array([2]), K)
    assert s["per_context_accuracy"] == list(expected)
    assert s["mean_accuracy"] == round(7 / 9, 4) and s["min_accuracy"] == 0.0
    assert s["contexts_all_correct"] == 7 and s["other_contexts"] == C - 1  # the source itself is not counted


def test_all_sources_matrix_and_chunking(monkeypatch):
    glyphs, space = _space()
    new = P.protocols(glyphs)[2]
    acc = P.accuracy_matrix(space, torch.arange(C), new).numpy()
    bad = np.isin(np.arange(C), BAD)
    np.testing.assert_array_equal(acc, (bad[:, None] == bad[None, :]).astype(float))  # permuted both sides: right
    monkeypatch.setattr(P, "WORK_ELEMENTS", 50)  # one source per chunk
    np.testing.assert_array_equal(P.accuracy_matrix(space, torch.arange(C), new).numpy(), acc)
    s = P.summarize(acc, np.arange(C), K)
    off = ~np.eye(C, dtype=bool)
    assert s["mean_accuracy"] == round(acc[off].mean(), 4)
    assert s["per_context_accuracy"][5] == round(1 / 9, 4) and s["per_context_accuracy"][0] == round(7 / 9, 4)
    assert s["contexts_all_correct"] == round((8 * 7 + 2 * 1) / C, 2)  # other contexts only, mean over sources


def test_a_noisy_new_instance_goes_wrong():
    glyphs, space = _space(jitter=0.0)
    new = P.protocols(glyphs)[2]
    space[:, new.probe_rows[0]] = space[0, glyphs.prototypes[1]] + 0.1  # a class-0 probe that looks like class 1
    acc = P.accuracy_matrix(space, torch.tensor([0]), new).numpy()[0]
    good = [c for c in range(C) if c not in BAD]
    np.testing.assert_allclose(acc[good], 1 - 1 / len(new.probe_rows))


def test_distances_have_the_analytic_values():
    glyphs, _ = _space()
    n = len(glyphs.labels)
    centres = 10 * np.eye(K)
    drift = np.zeros(K)
    drift[0] = 0.01  # context c shifts every code by c * drift
    z = torch.tensor(centres[glyphs.labels][None] + np.arange(C)[:, None, None] * drift, dtype=torch.float32)
    same, different = distance_samples(z, glyphs.labels, torch.tensor([3]))
    expected_same = np.repeat([abs(c - 3) * 0.01 for c in range(C) if c != 3], n)
    np.testing.assert_allclose(np.sort(same.numpy()), np.sort(expected_same), atol=1e-5)
    assert different.numel() == (n * n - K * M * M) // 2
    np.testing.assert_allclose(different.numpy(), np.sqrt(200), rtol=1e-5)
    stats = distance_stats(same, different)
    assert stats["same_glyph_across_contexts"]["mean"] == pytest.approx(np.mean(expected_same), abs=1e-4)
    assert stats["ratio"] == pytest.approx(np.sqrt(200) / np.mean(expected_same), rel=1e-3)


def test_source_context_checks_and_clamping(monkeypatch):
    from types import SimpleNamespace

    from helpers.stages import compose
    from sla_cli.errors import ConfigError, DataError
    from sla_cli.eval.oneshot import stage
    from sla_cli.eval.oneshot.measure import source_contexts

    assert list(source_contexts(10, 100)) == [10] and list(source_contexts(10, 6)) == [5]
    assert list(source_contexts("all", 4)) == [0, 1, 2, 3]
    for bad in ("first", "-1"):
        with pytest.raises(ConfigError, match="oneshot.source_context"):
            compose("eval oneshot", "preset=smoke", "model_dir=m", f"oneshot.source_context={bad}")
    compose("eval oneshot", "preset=smoke", "model_dir=m", "oneshot.source_context=all")

    def fake(c, masks_value):
        return SimpleNamespace(n_contexts=c, frame=(4, 4), masks=torch.full((c, 4, 4), masks_value))

    ours = fake(3, 1.0)
    for other in (fake(2, 1.0), fake(3, 0.5)):  # fewer contexts; same count but other masks (geometry)
        monkeypatch.setattr(stage, "load_model_dir", lambda folder, device, o=other: o)
        with pytest.raises(DataError, match="oneshot.ablation_model_dir=elsewhere"):
            stage._load_comparable("no_cross", "elsewhere", ours, torch.device("cpu"))
        with pytest.raises(DataError, match="oneshot.baseline_model_dirs.shared_ae=elsewhere"):
            stage._load_comparable("shared_ae", "elsewhere", ours, torch.device("cpu"))
    monkeypatch.setattr(stage, "load_model_dir", lambda folder, device: fake(3, 1.0))
    assert stage._load_comparable("no_cross", "same_geometry", ours, torch.device("cpu")).n_contexts == 3
    cfg = SimpleNamespace(ablation_model_dir=None, baseline_model_dirs={"shared_ae": "a", "contrastive": None})
    assert list(stage._comparable_models(cfg, ours, torch.device("cpu"))) == ["shared_ae"]
