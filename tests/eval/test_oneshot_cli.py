"""`sla eval oneshot preset=smoke` end to end on the session's smoke-trained model (tests/conftest.py),
with the built-in glyphs, a PNG folder and an Omniglot folder written here, and font letters; the
oracle row checked against a nearest prototype by hand; bad inputs fail in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from data_gen.font_glyphs import FontGlyphError, installed_typefaces
from data_gen.glyph_folder import load_glyph_folder
from data_gen.glyphs import render
from helpers.cli import assert_one_line_error, run_sla
from helpers.omniglot import SHAPES, write_omniglot
from helpers.stages import run_stage
from sla_cli.errors import DataError

ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _oneshot(model, out, *extra):
    return run_sla(
        "eval", "oneshot", "preset=smoke", f"model_dir={model}", f"run.out={out}", "run.device=cpu", *extra, env=ENV
    )


@pytest.mark.slow
def test_builtin_glyphs_end_to_end(smoke_model, tmp_path):
    out = tmp_path / "oneshot"
    result = _oneshot(
        smoke_model,
        out,
        f"oneshot.ablation_model_dir={smoke_model}",
        f"oneshot.baseline_model_dirs.shared_ae={smoke_model}",
    )
    assert result.returncode == 0, result.stderr
    r = json.loads((out / "oneshot.json").read_text())
    assert set(r) == {"protocols", "distance", "baselines", "ours_minus", "glyphs", "intervals", "paper"}
    assert r["glyphs"]["source"] == "builtin" and r["glyphs"]["mode"] == "builtin" and r["glyphs"]["seeds"] == [0]
    assert len(r["glyphs"]["classes"]) == 10
    c = len(r["protocols"]["paper"]["per_context_accuracy"])
    source = min(10, c - 1)
    for name, n in (("paper", 2), ("same_instance", 10), ("new_instances", 10)):
        s = r["protocols"][name]
        assert s["n_classes"] == n and len(s["per_context_accuracy"]) == c
        assert s["min_accuracy"] <= s["mean_accuracy"] <= 1 and s["ci95"][0] <= s["mean_accuracy"] <= s["ci95"][1]
        assert s["other_contexts"] == c - 1 and 0 <= s["contexts_all_correct"] <= c - 1
    # the prototype itself, in its own context, is at distance 0 from itself: always right
    assert r["protocols"]["same_instance"]["per_context_accuracy"][source] == 1.0
    assert r["baselines"]["pixel_nn"]["same_instance"]["per_context_accuracy"][source] == 1.0
    # the smoke model's shared space already carries the glyphs better than raw pixels do
    new, pixels = r["protocols"]["new_instances"], r["baselines"]["pixel_nn"]["new_instances"]
    assert new["mean_accuracy"] > pixels["mean_accuracy"]
    assert r["distance"]["ratio"] > 1
    # the same model as its own ablation and as a trained baseline: the same numbers, no difference
    assert r["baselines"]["no_cross"] == r["protocols"] == r["baselines"]["shared_ae"]
    assert r["ours_minus"]["shared_ae"]["new_instances"] == {"difference": 0.0, "ci95": [0.0, 0.0]}
    assert r["baselines"]["contrastive"] == "skipped"
    # the flat glyphs (the geometry for free) beat the smoke model: the oracle is the ceiling here
    assert r["baselines"]["oracle_pixel_nn"]["new_instances"]["mean_accuracy"] > new["mean_accuracy"]
    assert r["ours_minus"]["oracle_pixel_nn"]["new_instances"]["difference"] < 0
    assert r["paper"] == {"two_way_contexts": 100, "distance_ratio": 6.34}
    for png in ("decoded.png", "distances.png", "accuracy_maps.png"):
        assert (out / png).stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert "oneshot.json" in json.dumps(manifest)
    assert "oracle pixel NN" in result.stderr and "new instances" in result.stderr  # the table
    assert "6.21" not in result.stderr and "0.98" not in result.stderr  # the paper's raw distances: only its ratio


def _write_folder(root, classes=("plus", "check", "zigzag"), per_class=3):
    for _k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            big = Image.fromarray(render(name, angle_deg=8 * i)).resize((64, 56))
            Image.fromarray(255 - np.asarray(big)).convert("RGB").save(root / name / f"{i}.png")  # dark on light
    return root


@pytest.mark.slow
def test_png_folder_every_source_in_process(smoke_model, tmp_path):
    out = tmp_path / "oneshot"
    run_stage(
        "eval oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={out}",
        "run.device=cpu",
        f"oneshot.glyphs_dir={_write_folder(tmp_path / 'glyphs')}",
        "oneshot.source_context=all",
    )
    r = json.loads((out / "oneshot.json").read_text())
    assert r["glyphs"]["source"] == str(tmp_path / "glyphs") and r["glyphs"]["mode"] == "dir"
    assert r["glyphs"]["classes"] == ["check", "plus", "zigzag"]
    assert r["protocols"]["paper"]["n_classes"] == 2 and r["protocols"]["new_instances"]["n_classes"] == 3
    assert r["baselines"]["no_cross"] == "skipped"
    assert (out / "accuracy_matrix.png").stat().st_size > 1000
    # the oracle row, against nearest prototype by hand on the same glyphs as the stage read them
    names, per_class = load_glyph_folder(tmp_path / "glyphs")
    protos = [c[0].astype(float) / 255 for c in per_class]
    hand = [
        min(range(3), key=lambda j, g=g: float(((g.astype(float) / 255 - protos[j]) ** 2).sum())) == k
        for k, c in enumerate(per_class)
        for g in c[1:]
    ]
    oracle = r["baselines"]["oracle_pixel_nn"]["new_instances"]
    assert oracle["mean_accuracy"] == round(sum(hand) / len(hand), 4) and oracle["n_probes"] == len(hand) == 6
    assert oracle["per_context_accuracy"] == [oracle["mean_accuracy"]] * len(oracle["per_context_accuracy"])


@pytest.mark.slow
def test_font_letters_over_two_glyph_draws(smoke_model, tmp_path):
    try:
        installed_typefaces(12)
    except FontGlyphError as e:
        pytest.skip(str(e))  # the font packages are not installed here
    out = tmp_path / "oneshot"
    run_stage(
        "eval oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={out}",
        "run.device=cpu",
        "oneshot.glyphs=fonts",
        "oneshot.classes=4",
        "oneshot.typefaces=12",
        "oneshot.glyph_seeds=[0,1]",
    )
    r = json.loads((out / "oneshot.json").read_text())
    g = r["glyphs"]
    assert g["source"] == g["mode"] == "fonts" and g["seeds"] == [0, 1] and len(g["draws"]) == 2
    for draw in g["draws"]:
        families = [t["family"] for t in draw["typefaces"]]
        assert len(set(families)) == 12 and draw["prototype_typeface"] == families[0]
        assert len(draw["classes"]) == 4 and set(draw["classes"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    new = r["protocols"]["new_instances"]
    assert new["n_probes"] == 2 * 4 * 11 and len(new["per_draw_mean_accuracy"]) == 2  # letters x other typefaces
    assert "glyph draws" in r["intervals"]["method"]


@pytest.mark.slow
def test_omniglot_folder_draws_characters(smoke_model, tmp_path):
    root = write_omniglot(tmp_path / "omniglot")
    out = tmp_path / "oneshot"
    run_stage(
        "eval oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={out}",
        "run.device=cpu",
        f"oneshot.glyphs_dir={root}",
        "oneshot.classes=2",
        "oneshot.glyph_seeds=[0,1,2]",
    )
    r = json.loads((out / "oneshot.json").read_text())
    draws = [d["classes"] for d in r["glyphs"]["draws"]]
    assert all(len(d) == 2 and set(d) <= set(SHAPES) for d in draws) and len({tuple(d) for d in draws}) > 1
    assert {d["layout"] for d in r["glyphs"]["draws"]} == {"omniglot"}
    assert r["protocols"]["new_instances"]["n_probes"] == 3 * 2 * 2  # draws x characters x (3 drawings - prototype)


def _bad_folder(tmp_path, case):
    glyphs = _write_folder(tmp_path / "glyphs", per_class=2)
    if case == "one_image":
        (glyphs / "plus" / "1.png").unlink()
        return glyphs, glyphs / "plus"
    if case == "unreadable":
        (glyphs / "check" / "0.png").write_bytes(b"not a png")
        return glyphs, glyphs / "check" / "0.png"
    return glyphs / "plus", glyphs / "plus"  # one_class: a folder of images, no class subfolders


@pytest.mark.slow
@pytest.mark.parametrize("case", ["one_image", "unreadable", "one_class", "no_model"])
def test_bad_inputs_are_refused_before_the_run(smoke_model, tmp_path, case):
    glyphs, named = _bad_folder(tmp_path, "one_image" if case == "no_model" else case)
    model = smoke_model
    if case == "no_model":
        model = named = tmp_path / "no_such_model"
    with pytest.raises(DataError) as err:
        run_stage(
            "eval oneshot",
            "preset=smoke",
            f"model_dir={model}",
            f"run.out={tmp_path / 'out'}",
            "run.device=cpu",
            f"oneshot.glyphs_dir={glyphs}",
        )
    assert str(named) in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()  # inputs are checked before the run folder opens


@pytest.mark.slow
def test_bad_glyph_folder_is_one_line_on_the_command_line(smoke_model, tmp_path):
    glyphs, named = _bad_folder(tmp_path, "one_image")
    out = tmp_path / "out"
    assert_one_line_error(_oneshot(smoke_model, out, f"oneshot.glyphs_dir={glyphs}"), str(named))
    assert not out.exists()


@pytest.mark.slow
def test_no_fonts_is_one_line_naming_the_packages(smoke_model, tmp_path):
    out = tmp_path / "out"
    result = run_sla(
        "eval",
        "oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={out}",
        "run.device=cpu",
        "oneshot.glyphs=fonts",
        env={**ENV, "PATH": str(tmp_path)},
    )
    assert_one_line_error(result, "oneshot.glyphs=fonts", "fc-list", "apt-get install", "fonts-urw-base35")
    assert not out.exists()


@pytest.mark.slow
def test_too_few_fonts_or_one_omniglot_character_refused_before_the_run(smoke_model, tmp_path):
    one = write_omniglot(tmp_path / "omniglot", {"Latin": ["character01"]})
    cases = [
        (["oneshot.glyphs=fonts", "oneshot.typefaces=500"], "apt-get install"),  # "500 needed" or no fc-list
        ([f"oneshot.glyphs_dir={one}"], f"Omniglot folder {one} holds 1 character(s)"),
    ]
    for overrides, message in cases:
        with pytest.raises(DataError) as err:
            run_stage(
                "eval oneshot",
                "preset=smoke",
                f"model_dir={smoke_model}",
                f"run.out={tmp_path / 'out'}",
                "run.device=cpu",
                *overrides,
            )
        assert message in str(err.value) and "\n" not in str(err.value)
        assert not (tmp_path / "out").exists()
