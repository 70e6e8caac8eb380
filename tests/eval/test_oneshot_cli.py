"""`sla eval oneshot preset=smoke` end to end on the session's smoke-trained model (tests/conftest.py),
with the built-in glyphs and with a PNG folder written here; bad inputs fail in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from data_gen.glyphs import render
from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import run_stage
from sla_cli.errors import DataError

ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _oneshot(model, out, *extra):
    return run_sla("eval", "oneshot", "preset=smoke", f"model_dir={model}", f"out={out}", "device=cpu", *extra, env=ENV)


@pytest.mark.slow
def test_builtin_glyphs_end_to_end(smoke_model, tmp_path):
    out = tmp_path / "oneshot"
    result = _oneshot(smoke_model, out, f"oneshot.ablation_model_dir={smoke_model}")
    assert result.returncode == 0, result.stderr
    r = json.loads((out / "oneshot.json").read_text())
    assert set(r) == {"protocols", "distance", "baselines", "glyphs", "paper"}
    assert r["glyphs"] == {"source": "builtin", "classes": r["glyphs"]["classes"]} and len(r["glyphs"]["classes"]) >= 10
    c = len(r["protocols"]["paper"]["per_context_accuracy"])
    source = min(10, c - 1)
    for name, n in (("paper", 2), ("same_instance", 10), ("new_instances", 10)):
        s = r["protocols"][name]
        assert s["n_classes"] == n and len(s["per_context_accuracy"]) == c
        assert s["min_accuracy"] <= s["mean_accuracy"] <= 1
    # the prototype itself, in its own context, is at distance 0 from itself: always right
    assert r["protocols"]["same_instance"]["per_context_accuracy"][source] == 1.0
    assert r["baselines"]["pixel_nn"]["same_instance"]["per_context_accuracy"][source] == 1.0
    # the smoke model's shared space already carries the glyphs better than raw pixels do
    new, pixels = r["protocols"]["new_instances"], r["baselines"]["pixel_nn"]["new_instances"]
    assert new["mean_accuracy"] > pixels["mean_accuracy"]
    assert r["distance"]["ratio"] > 1
    assert r["baselines"]["no_cross"] == r["protocols"]  # the same model as its own ablation: the same numbers
    assert r["paper"] == {"two_way_contexts": 100, "same": 0.98, "different": 6.21}
    for png in ("decoded.png", "distances.png", "accuracy_maps.png"):
        assert (out / png).stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert "oneshot.json" in json.dumps(manifest)
    assert "no cross-training" in result.stderr and "new instances" in result.stderr  # progress bar, table


def _write_folder(root, classes=("plus", "check", "zigzag"), per_class=3):
    for _k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            big = Image.fromarray(render(name, angle_deg=8 * i)).resize((64, 56))
            Image.fromarray(255 - np.asarray(big)).convert("RGB").save(root / name / f"{i}.png")  # dark on light
    return root


def test_png_folder_every_source_in_process(smoke_model, tmp_path):
    out = tmp_path / "oneshot"
    run_stage(
        "eval oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"out={out}",
        "device=cpu",
        f"oneshot.glyphs_dir={_write_folder(tmp_path / 'glyphs')}",
        "oneshot.source_context=all",
    )
    r = json.loads((out / "oneshot.json").read_text())
    assert r["glyphs"] == {"source": str(tmp_path / "glyphs"), "classes": ["check", "plus", "zigzag"]}
    assert r["protocols"]["paper"]["n_classes"] == 2 and r["protocols"]["new_instances"]["n_classes"] == 3
    assert r["baselines"]["no_cross"] == "skipped"
    assert (out / "accuracy_matrix.png").stat().st_size > 1000


def _bad_folder(tmp_path, case):
    glyphs = _write_folder(tmp_path / "glyphs", per_class=2)
    if case == "one_image":
        (glyphs / "plus" / "1.png").unlink()
        return glyphs, glyphs / "plus"
    if case == "unreadable":
        (glyphs / "check" / "0.png").write_bytes(b"not a png")
        return glyphs, glyphs / "check" / "0.png"
    return glyphs / "plus", glyphs / "plus"  # one_class: a folder of images, no class subfolders


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
            f"out={tmp_path / 'out'}",
            "device=cpu",
            f"oneshot.glyphs_dir={glyphs}",
        )
    assert str(named) in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()  # inputs are checked before the run folder opens


def test_bad_glyph_folder_is_one_line_on_the_command_line(smoke_model, tmp_path):
    glyphs, named = _bad_folder(tmp_path, "one_image")
    out = tmp_path / "out"
    assert_one_line_error(_oneshot(smoke_model, out, f"oneshot.glyphs_dir={glyphs}"), str(named))
    assert not out.exists()
