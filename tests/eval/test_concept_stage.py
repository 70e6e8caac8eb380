"""`sla eval concept` end to end on a smoke-trained model (built once per session), and its refusals."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import compose, run_stage
from sla_cli.errors import ConfigError, DataError
from sla_cli.eval.concept.inputs import CUBE_FILES

NUMBERS = {
    "spearman_latent_angle",
    "angle_mae_deg",
    "map_cosine_same_angle_different_digit",
    "map_cosine_different_angle",
}
KEYS = NUMBERS | {
    "ci95",
    "temperature_free",
    "readers",
    "textures",
    "backprojection",
    "map",
    "normalisation",
    "splits",
    "selection",
    "paper",
}
SMOKE = ("preset=smoke", "run.threads=1", "run.device=cpu")


@pytest.fixture(scope="session")
def smoke_concept(tmp_path_factory, smoke_model, mnist_root):
    """`sla eval concept preset=smoke` on the session's smoke model (conftest.py), run once."""
    out = tmp_path_factory.mktemp("concept") / "concept"
    run_stage(
        "eval concept",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.data_root={mnist_root}",
        "run.threads=1",
        "run.device=cpu",
        out=out,
    )
    return out


@pytest.mark.slow
def test_smoke_run_writes_the_issues_outputs(smoke_concept):
    result = json.loads((smoke_concept / "concept.json").read_text())
    assert set(result) == KEYS
    manifest = json.loads((smoke_concept / "manifest.json").read_text())
    for name in (
        "concept.json",
        "likelihood_maps.png",
        "concept_sweep.png",
        "backprojection.png",
        "texture_invariance.png",
        "concept_model.pt",
    ):
        assert name in manifest["sha256"], name
    assert all(math.isfinite(result[k]) for k in NUMBERS)
    lo, hi = result["ci95"]["angle_mae_deg"]
    assert lo <= result["angle_mae_deg"] <= hi
    # even a smoke model's maps order its cubes by angle
    assert abs(result["spearman_latent_angle"]) > 0.5, result
    bp = result["backprojection"]
    assert {"mse", "oracle_mse", "baseline_mse", "texture_mean_mse", "ci95", "per_texture"} <= set(bp)
    assert bp["oracle_mse"] < bp["baseline_mse"], bp  # the code painted in the true contexts beats the mean cube
    assert result["map"]["name"] == "masked reconstruction log-ratio to a blank face"


@pytest.mark.slow
def test_choices_come_from_the_select_cubes_and_numbers_from_the_test_cubes(smoke_concept):
    result = json.loads((smoke_concept / "concept.json").read_text())
    counts = result["splits"]["counts"]
    assert counts == {"fit": 38, "select": 13, "test": 13}  # 64 smoke cubes, 0.2 / 0.2
    model = torch.load(smoke_concept / "concept_model.pt", weights_only=True)
    parts = [set(model[f"{k}_cubes"].tolist()) for k in ("fit", "select", "test")]
    assert sum(map(len, parts)) == 64 and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    tried = result["selection"]["map"]["candidates"]
    assert len(tried) == 6  # 2 blank rules x 3 temperatures (conf/eval_concept.yaml)
    best = min(tried, key=lambda c: c["select_angle_mae_deg"])
    chosen = {"blank_rule": best["blank_rule"], "temperature": best["temperature"]}
    assert result["selection"]["map"]["chosen"] == chosen
    assert result["normalisation"]["temperature"] == best["temperature"]
    peaks = result["selection"]["peak_fraction"]
    assert peaks["chosen"] == min(peaks["candidates"], key=lambda c: c["select_silhouette_mse"])["peak_fraction"]
    assert result["backprojection"]["peak_fraction"] == peaks["chosen"]


@pytest.mark.slow
def test_texture_rows_hold_every_texture_and_reader(smoke_concept):
    result = json.loads((smoke_concept / "concept.json").read_text())
    rows = result["textures"]["rows"]
    names = [r["texture"] for r in rows]
    assert names[:10] == [f"digit {d}" for d in range(10)] and len(names) == 18  # 10 digits + 8 glyphs
    assert [r["texture"] for r in rows if r["seen_in_training"]] == ["digit 5"]
    for r in rows:
        assert set(r["readers"]) == {"maps_second_level", "maps_pca", "pixels_autoencoder", "pixels_pca"}
        assert r["cubes"] == 13 and math.isfinite(r["readers"]["maps_pca"]["angle_mae_deg"]["mean"])
    summary = result["textures"]["summary"]
    assert summary["trained_texture"] == "digit 5" and len(summary["unseen_textures"]) == 17
    ours = summary["angle_mae_deg"]["maps_second_level"]
    pooled = np.mean(
        [r["readers"]["maps_second_level"]["angle_mae_deg"]["mean"] for r in rows if not r["seen_in_training"]]
    )
    assert ours["unseen_textures"]["mean"] == pytest.approx(pooled)
    diff = summary["ours_minus_control_unseen_angle_mae_deg"]["pixels_autoencoder"]["mean"]
    assert summary["targets"]["maps_beat_pixels_on_unseen"] == (diff < 0)


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_does_nothing(smoke_concept, smoke_model, mnist_root):
    before = (smoke_concept / "manifest.json").read_text()
    run_stage(
        "eval concept",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.data_root={mnist_root}",
        "run.threads=1",
        "run.device=cpu",
        out=smoke_concept,
    )
    assert (smoke_concept / "manifest.json").read_text() == before


@pytest.mark.slow
def test_the_gpu_bf16_path_runs_on_cpu(smoke_model, tmp_path, mnist_root):
    # precision=bf16 runs the CUDA autocast path on a CPU. A fresh process with oneDNN capped below
    # AMX from the start: once oneDNN has run, the cap runtime sets lazily comes too late (SIGILL here)
    env = {"SLA_DATA_ROOT": str(mnist_root), "OMP_NUM_THREADS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}
    result = run_sla(
        "eval",
        "concept",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={tmp_path / 'out'}",
        "run.precision=bf16",
        "run.device=cpu",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    bf16 = json.loads((tmp_path / "out" / "concept.json").read_text())
    assert abs(bf16["spearman_latent_angle"]) > 0.5, bf16
    assert bf16["backprojection"]["oracle_mse"] < bf16["backprojection"]["baseline_mse"], bf16


@pytest.mark.slow
def test_a_dataset_without_cubes_is_a_one_line_error(smoke_dataset, smoke_model, tmp_path, mnist_root):
    # the smoke model, pointed at a copy of its dataset from which the cubes are gone
    dataset, model = tmp_path / "dataset", tmp_path / "model"
    shutil.copytree(smoke_dataset, dataset)
    shutil.copytree(smoke_model, model)
    manifest = json.loads((dataset / "manifest.json").read_text())
    for name in list(manifest["sha256"]):
        if name.startswith("cubes_"):
            del manifest["sha256"][name]
            (dataset / name).unlink()
    (dataset / "manifest.json").write_text(json.dumps(manifest))
    model_manifest = json.loads((model / "manifest.json").read_text())
    model_manifest["dataset"]["folder"] = str(dataset)
    (model / "manifest.json").write_text(json.dumps(model_manifest))
    result = run_sla(
        "eval",
        "concept",
        "preset=smoke",
        f"model_dir={model}",
        f"run.out={tmp_path / 'out'}",
        env={"SLA_DATA_ROOT": str(mnist_root), "OMP_NUM_THREADS": "1"},
    )
    assert_one_line_error(result, "no rotating cubes", CUBE_FILES[0])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_an_empty_select_split_is_a_one_line_error_before_anything_is_written(smoke_model, tmp_path, mnist_root):
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"concept.select_fraction=0.001 leaves no cube") as err:
        run_stage(
            "eval concept",
            *SMOKE,
            f"model_dir={smoke_model}",
            f"run.data_root={mnist_root}",
            "concept.select_fraction=0.001",
            out=out,
        )
    assert "\n" not in str(err.value)
    assert not out.exists()


@pytest.mark.slow
def test_full_terms_still_run_and_say_so(smoke_model, tmp_path, mnist_root):
    # one candidate map and two textures keep it short; the measured comparison with recon is in the README
    out = tmp_path / "full"
    run_stage(
        "eval concept",
        *SMOKE,
        f"model_dir={smoke_model}",
        f"run.data_root={mnist_root}",
        "concept.terms=full",
        "concept.candidates.temperatures=[0.7]",
        "concept.candidates.blank_rules=[blank_ratio]",
        "concept.texture_digits=[5,3]",
        "concept.texture_glyphs=[]",
        out=out,
    )
    result = json.loads((out / "concept.json").read_text())
    assert result["map"]["terms"] == result["normalisation"]["terms"] == "full"
    assert "log p(z*)" in result["map"]["definition"]
    assert math.isfinite(result["angle_mae_deg"]) and len(result["textures"]["rows"]) == 2


def test_config_checks_name_the_key():
    with pytest.raises(ConfigError, match="model_dir=DIR is required"):
        compose("eval concept", "preset=smoke")
    for override, key in (
        ("concept.terms=exact", "concept.terms"),
        ("concept.glyph=circle", "concept.glyph"),
        ("concept.test_fraction=1.0", "concept.test_fraction"),
        ("concept.select_fraction=0", "concept.select_fraction"),
        ("concept.select_fraction=0.85", "concept.select_fraction \\+ concept.test_fraction"),
        ("concept.candidates.temperatures=[]", "concept.candidates.temperatures"),
        ("concept.candidates.temperatures=[0.5,-1]", "concept.candidates.temperatures"),
        ("concept.candidates.blank_rules=[ratio]", "concept.candidates.blank_rules"),
        ("concept.candidates.peak_fractions=[0.2,0.2]", "repeats"),
        ("concept.texture_digits=[10]", "concept.texture_digits"),
        ("concept.texture_glyphs=[circle]", "concept.texture_glyphs"),
        ("concept.texture_cubes=0", "concept.texture_cubes"),
    ):
        with pytest.raises(ConfigError, match=key):
            compose("eval concept", "preset=smoke", "model_dir=m", override)
