"""Known-answer tests of the concept stage's pure parts: peaks, composition, maps, measures, second level."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sla_cli.errors import DataError
from sla_cli.eval.concept import (
    backproject,
    controls,
    invariance,
    maps,
    measures,
    second_level,
    selection,
    splits,
    textures,
)
from sla_cli.models.ae_set import AutoencoderSet

# 6 side contexts at yaws -75..75 (30 apart) then 4 top contexts at 0, 90, 180, 270
FACES = ["side"] * 6 + ["top"] * 4
YAWS = np.array([-75, -45, -15, 15, 45, 75, 0, 90, 180, 270], dtype=np.float64)


def test_peaks_of_a_known_map_are_its_faces():
    m = np.full((3, 10), 0.01)
    m[0, [2, 5, 7]] = [0.5, 0.3, 0.9]  # two sides 90 deg apart and a top
    m[1, [3, 4, 8]] = [0.6, 0.4, 0.2]  # 4 is beside 3, not a local max: one side face
    m[2, [0, 4, 6]] = [0.05, 0.7, 0.3]  # 0 is a local max but weaker than fraction x max
    got = backproject.pick_peaks(m, FACES, YAWS, fraction=0.2)
    np.testing.assert_array_equal(got, [[7, 2, 5], [8, 3, -1], [6, 4, -1]])


def test_a_second_side_peak_too_close_is_the_same_face():
    m = np.full((1, 10), 0.01)
    m[0, [1, 3, 9]] = [0.8, 0.7, 0.5]  # side yaws -45 and 15: 60 deg apart, both kept; top 270
    assert backproject.pick_peaks(m, FACES, YAWS, 0.2).tolist() == [[9, 1, 3]]
    m[0, 3] = 0.01
    m[0, [1, 2]] = 0.8  # a plateau: 1 and 2 are both local maxima but 30 deg apart, one face
    assert backproject.pick_peaks(m, FACES, YAWS, 0.2)[0, 1:].tolist() == [1, -1]


def test_composition_sums_masked_faces_and_clips():
    masks = torch.zeros(4, 6)
    masks[0, :2] = 1
    masks[1, 2:4] = 1
    masks[2, 3:6] = 0.5
    faces = torch.tensor([[[0.2] * 6, [0.9] * 6, [1.0] * 6]])  # slots decoded in contexts 0, 1, 2
    img = backproject.compose(faces, masks, np.array([[0, 1, 2]]))
    torch.testing.assert_close(img[0], torch.tensor([0.2, 0.2, 0.9, 1.0, 0.5, 0.5]))
    img = backproject.compose(faces, masks, np.array([[0, -1, -1]]))
    torch.testing.assert_close(img[0], torch.tensor([0.2, 0.2, 0, 0, 0, 0]))


def test_decode_in_contexts_uses_each_contexts_member():
    torch.manual_seed(0)
    model = AutoencoderSet(5, 12, 8, 3)
    code = torch.randn(3)
    out = backproject.decode_in_contexts(model, code, np.array([[4, 1, -1]]))
    want = model.decode(code.expand(5, 1, 3).contiguous())[:, 0]
    torch.testing.assert_close(out[0, 0], want[4])
    torch.testing.assert_close(out[0, 1], want[1])
    assert out[0, 2].abs().max() == 0


def test_normalised_maps_peak_where_the_score_is_best_and_ignore_offsets():
    groups = maps.face_groups(FACES)
    s = torch.randn(2, 10) * 0.01
    s[0, 2] += 1.0
    s[0, 8] += 1.0
    s[1] = s[0] * 3 - 7  # another digit: scaled and shifted scores, same ranking within groups
    m = maps.normalise(s, groups, temperature=0.3)
    torch.testing.assert_close(m.sum(1), torch.ones(2))
    assert m[0, :6].argmax() == 2 and m[0, 6:].argmax() == 2
    assert maps.cosine_rows(m[:1], m[1:]).item() == pytest.approx(1.0, abs=1e-5)


def test_context_scores_prefer_the_context_a_face_was_drawn_in():
    # two "contexts" whose members reproduce their own face perfectly and see nothing elsewhere
    masks = torch.zeros(2, 2, 2)
    masks[0, 0] = 1
    masks[1, 1] = 1
    model = AutoencoderSet(2, 4, 4, 4)
    with torch.no_grad():  # identity-ish: x -> relu -> x, output through a steep sigmoid
        for p in model.parameters():
            p.zero_()
        model.enc1_w[:] = torch.eye(4) * 10
        model.enc2_w[:] = torch.eye(4)
        model.dec2_b[:] = -5
    images = np.zeros((1, 2, 2), np.uint8)
    images[0, 0] = 255  # a bright face in context 0's region, black in context 1's
    images[0, 1] = 128
    scores = maps.context_scores(model, images, masks)
    s = scores.raw("blank_ratio")
    assert s.shape == (1, 2)
    assert s[0, 0] > s[0, 1]  # a near-perfect reconstruction (1 -> sigmoid(95)) beats 0.5 -> sigmoid(45)
    # the blank face's log-likelihood of context 0's view: N(1; 0, 1) on each of its two pixels (row 0)
    assert scores.blank[0, 0].item() == pytest.approx(2 * (-0.5 - 0.5 * np.log(2 * np.pi)), abs=1e-5)
    torch.testing.assert_close(scores.raw("plain") - scores.blank, s)


def test_spearman_and_ranks():
    assert measures.spearman(np.arange(10), np.arange(10) ** 3) == pytest.approx(1.0)
    assert measures.spearman(np.arange(10), -np.exp(np.arange(10))) == pytest.approx(-1.0)
    np.testing.assert_allclose(measures.ranks(np.array([3.0, 1.0, 3.0, 0.0])), [2.5, 1.0, 2.5, 0.0])
    np.testing.assert_allclose(measures.ranks(np.array([2.0, 2.0, 2.0, 1.0, 5.0, 5.0])), [2, 2, 2, 0, 4.5, 4.5])
    assert measures.spearman(np.zeros(5), np.arange(5)) == 0.0


def test_isotonic_and_monotone_fit_recover_a_decreasing_map():
    np.testing.assert_allclose(measures.isotonic(np.array([1.0, 3.0, 2.0, 4.0])), [1, 2.5, 2.5, 4])
    z = np.linspace(0, 1, 50)
    angle = 90 * (1 - z) ** 2
    fit = measures.MonotoneFit(z, angle)
    assert fit.sign == -1.0
    np.testing.assert_allclose(fit(np.array([0.0, 0.5, 1.0, 2.0])), [90, 22.5, 0, 0], atol=0.1)


def test_far_apart_cosine_uses_only_far_pairs():
    m = np.array([[1.0, 0], [1.0, 0], [0, 1.0]])
    assert measures.mean_cosine_far_apart(m, np.array([0.0, 5.0, 40.0]), 20) == pytest.approx(0.0)
    assert measures.mean_cosine_far_apart(m[:2], np.array([0.0, 30.0]), 20) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    many, angles = rng.random((50, 4)), rng.uniform(0, 90, 50)
    assert measures.mean_cosine_far_apart(many, angles, 20, block=7) == pytest.approx(
        measures.mean_cosine_far_apart(many, angles, 20, block=1000)
    )


def test_three_way_split_is_disjoint_covers_and_is_seeded():
    s = splits.three_way(20, 0.25, 0.3, seed=1)
    assert s.counts() == {"fit": 9, "select": 5, "test": 6}
    assert sorted(np.r_[s.fit, s.select, s.test].tolist()) == list(range(20))
    assert np.array_equal(splits.three_way(20, 0.25, 0.3, seed=1).test, s.test)
    assert not np.array_equal(splits.three_way(20, 0.25, 0.3, seed=2).test, s.test)


def test_an_empty_select_or_fit_split_is_a_one_line_error():
    with pytest.raises(DataError, match=r"concept.select_fraction=0.01 leaves no cube of the dataset's 20"):
        splits.three_way(20, 0.01, 0.3, seed=0)
    with pytest.raises(DataError, match="fewer than 2"):
        splits.three_way(10, 0.4, 0.5, seed=0)


def test_second_level_orders_a_one_parameter_family_of_maps():
    # maps of a bump travelling along 20 contexts: a 1-latent AE must order them by position
    pos = torch.linspace(2, 17, 200)
    grid = torch.arange(20.0)
    m = torch.softmax(-((grid[None] - pos[:, None]) ** 2) / 4, 1)
    ae, losses = second_level.train(m, hidden=32, latent=1, steps=600, batch_size=64, lr=0.01, restarts=2, seed=0)
    with torch.no_grad():
        u = ae.latent01(m)[:, 0].numpy()
        assert u.min() == pytest.approx(0, abs=1e-5) and u.max() == pytest.approx(1, abs=1e-5)
        assert abs(measures.spearman(u, pos.numpy())) > 0.98
        assert len(losses) == 2
        err = ((ae(m) - m) ** 2).mean() / m.var()
        assert err < 0.1


def test_map_spearman_is_temperature_free_and_within_face_groups():
    groups = {f: idx.numpy() for f, idx in maps.face_groups(FACES).items()}
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(4, 10))
    for t in (0.2, 1.0, 5.0):  # the softmax keeps each group's order: Spearman 1 with the raw scores
        m = maps.normalise(torch.from_numpy(raw), maps.face_groups(FACES), t).numpy()
        np.testing.assert_allclose(measures.row_spearman(raw, m, groups), 1.0, atol=1e-12)
    flipped = raw.copy()
    flipped[:, 6:] = -flipped[:, 6:]  # the top group reversed, the side group as it was
    np.testing.assert_allclose(measures.row_spearman(raw, flipped, groups), 0.0, atol=1e-12)
    shifted = raw.copy()
    shifted[:, 6:] += 100  # an offset between the groups changes nothing within them
    np.testing.assert_allclose(measures.row_spearman(raw, shifted, groups), 1.0)


def test_best_context_agreement_and_correctness():
    groups = {"side": np.arange(6), "top": np.arange(6, 10)}
    a = np.zeros((2, 10))
    a[0, [2, 7]] = 1  # best side 2, best top 7
    a[1, [4, 9]] = 1
    b = a.copy()
    b[1, 9], b[1, 6] = 0, 1  # same sides, the second cube's top moved
    assert measures.best_context_agreement(a, b, groups) == {"side": 1.0, "top": 0.5}
    truth = np.array([[7, 2, -1], [8, 5, 4]])  # cube 1: its best side (4) is its side B
    assert measures.best_context_correct(a, groups, truth) == {"side": 1.0, "top": 0.5}


def test_bootstrap_intervals():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 1.0, 400)
    got = measures.mean_ci(x)
    assert got["ci95"][0] < got["mean"] < got["ci95"][1]
    assert got["ci95"][1] - got["ci95"][0] == pytest.approx(2 * 1.96 / 20, rel=0.25)  # 2 x 1.96 sd / sqrt(n)
    assert measures.mean_ci(np.full(10, 2.5))["ci95"] == [2.5, 2.5]
    y = x + rng.normal(0, 0.01, 400)  # a paired statistic: the resample keeps pairs together
    lo, hi = measures.bootstrap_ci(lambda a, b: (a - b).mean(), x, y)
    assert hi - lo < 0.01


def test_spearman_interval_matches_the_plain_bootstrap():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = x + rng.normal(size=60)
    y[:10] = y[10]  # ties in the data too
    np.testing.assert_allclose(
        measures.spearman_ci(x, y, n_boot=200, seed=3),
        measures.bootstrap_ci(measures.spearman, x, y, n_boot=200, seed=3),
        atol=1e-12,
    )


def _bump_scores(k: int = 80, seed: int = 0) -> tuple[maps.Scores, np.ndarray]:
    """Scores of k cubes whose side and top peaks travel with the angle; the blank term is big noise
    per cube and context (as a blank face's likelihood varies with each cube's ink under each mask),
    so only the blank-ratio rule sees the bump."""
    rng = np.random.default_rng(seed)
    angles = rng.uniform(0, 90, k)
    pos = torch.from_numpy(angles / 90.0)[:, None]
    side = -((torch.linspace(0, 1, 6)[None] - pos) ** 2) * 40
    top = -((torch.linspace(0, 1, 4)[None] - pos) ** 2) * 20
    bump = torch.cat([side, top], 1).float()
    blank = torch.from_numpy(rng.normal(0, 50, (k, 10))).float()
    return maps.Scores(bump + blank, blank.clone()), angles


def _train(x):
    return second_level.train(x, hidden=16, latent=1, steps=150, batch_size=32, lr=0.01, restarts=1, seed=0)


def test_the_map_choice_sees_no_test_cube_and_picks_the_informative_rule():
    scores, angles = _bump_scores()
    part = splits.three_way(len(angles), 0.25, 0.25, seed=0)
    groups = maps.face_groups(FACES)
    choice = selection.choose_map(scores, groups, angles, part, ["plain", "blank_ratio"], [0.5, 1.0], _train)
    assert choice.blank_rule == "blank_ratio" and len(choice.candidates) == 4
    assert [c["blank_rule"] for c in choice.candidates] == ["plain", "plain", "blank_ratio", "blank_ratio"]
    best = min(choice.candidates, key=lambda c: c["select_angle_mae_deg"])
    assert choice.temperature == best["temperature"]
    # scramble the test cubes' scores and angles: not one candidate's number may move
    term, test = scores.term.clone(), torch.from_numpy(part.test)
    term[test] = torch.randn(len(test), 10) * 100
    angles2 = angles.copy()
    angles2[part.test] = 0.0
    again = selection.choose_map(
        maps.Scores(term, scores.blank), groups, angles2, part, ["plain", "blank_ratio"], [0.5, 1.0], _train
    )
    assert again.candidates == choice.candidates


def test_no_finite_select_error_is_one_line_not_a_none():
    scores, angles = _bump_scores(k=40)
    part = splits.three_way(len(angles), 0.25, 0.25, seed=0)
    angles = angles.copy()
    angles[part.select] = np.nan  # every candidate's select error is NaN
    with pytest.raises(DataError, match="none of the 2 candidate maps .* gave a finite angle error"):
        selection.choose_map(scores, maps.face_groups(FACES), angles, part, ["plain"], [0.5, 1.0], _train)


def test_pca_code_reads_the_main_direction():
    rng = np.random.default_rng(0)
    t = rng.uniform(-1, 1, 200)
    x = np.outer(t, [3.0, 4.0]) / 5 + rng.normal(0, 0.01, (200, 2))
    code = controls.pca_code(torch.from_numpy(x))
    assert abs(measures.spearman(code(torch.from_numpy(x)), t)) > 0.99
    np.testing.assert_allclose(
        np.abs(code(torch.tensor([[3.0, 4.0]]) / 5 + torch.from_numpy(x.mean(0)))), 1.0, atol=0.02
    )


def _row(name: str, seen: bool, errors: dict) -> dict:
    return {
        "texture": name,
        "kind": "glyph" if "glyph" in name else "digit",
        "seen_in_training": seen,
        "abs_errors": {k: np.asarray(v, float) for k, v in errors.items()},
    }


def test_texture_summary_pools_unseen_textures_and_compares_paired_cubes():
    readers = list(controls.READERS)
    trained = {k: [2.0, 2.0, 2.0, 2.0] for k in readers}
    a = {k: [3.0, 3.0, 3.0, 3.0] for k in readers}  # ours 3; every control 3 too, except:
    b = {k: [4.0, 4.0, 4.0, 4.0] for k in readers}
    a["pixels_autoencoder"] = b["pixels_autoencoder"] = [6.0, 6.0, 6.0, 6.0]
    out = invariance.summary(
        [_row("digit 5", True, trained), _row("digit 0", False, a), _row("plus glyph", False, b)], "digit 5", seed=0
    )
    assert out["unseen_textures"] == ["digit 0", "plus glyph"]
    ours = out["angle_mae_deg"]["maps_second_level"]
    assert ours["unseen_textures"]["mean"] == pytest.approx(3.5)
    assert ours["unseen_textures_over_trained"]["value"] == pytest.approx(1.75)
    diff = out["ours_minus_control_unseen_angle_mae_deg"]
    assert diff["pixels_autoencoder"]["mean"] == pytest.approx(-2.5) and diff["maps_pca"]["mean"] == pytest.approx(0)
    assert ours["unseen_digits_over_trained"]["value"] == pytest.approx(1.5)
    assert ours["unseen_glyphs"]["mean"] == pytest.approx(4.0)
    assert out["targets"] == {
        "unseen_textures_at_most_1.5x_trained": False,
        "unseen_digits_at_most_1.5x_trained": True,
        "unseen_glyphs_at_most_1.5x_trained": False,
        "unseen_below_every_control": False,
        "maps_beat_pixels_on_unseen": True,
        "maps_beat_pixels_on_unseen_ci_excludes_0": True,
    }


def test_texture_faces_are_seeded_and_shaped(mnist_root):
    got = textures.face_textures(str(mnist_root), [1, 7], ["plus"], n=4, seed=3)
    assert list(got) == ["digit 1", "digit 7", "plus glyph"]
    assert all(v.shape == (4, 3, 28, 28) and v.dtype == np.uint8 for v in got.values())
    again = textures.face_textures(str(mnist_root), [1, 7], ["plus"], n=4, seed=3)
    assert all(np.array_equal(got[k], again[k]) for k in got)
    assert not np.array_equal(got["digit 1"][:, 0], got["digit 1"][:, 1])  # one instance per face
