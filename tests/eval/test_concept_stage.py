"""`sla eval concept` end to end on a smoke-trained model (built once per session), and its refusals."""

from __future__ import annotations

import json
import math
import shutil

import pytest
from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import compose, run_stage

from sla_cli.errors import ConfigError
from sla_cli.eval.concept.inputs import CUBE_FILES

KEYS = {"spearman_latent_angle", "angle_mae_deg", "map_cosine_same_angle_different_digit",
        "map_cosine_different_angle", "backprojection", "normalisation", "paper"}


@pytest.fixture(scope="session")
def smoke_concept(tmp_path_factory, smoke_model, mnist_root):
    """`sla eval concept preset=smoke` on the session's smoke model (conftest.py), run once."""
    out = tmp_path_factory.mktemp("concept") / "concept"
    run_stage("eval concept", "preset=smoke", f"model_dir={smoke_model}", f"data.root={mnist_root}",
              "threads=1", "device=cpu", out=out)
    return out


def test_smoke_run_writes_the_issues_outputs(smoke_concept):
    result = json.loads((smoke_concept / "concept.json").read_text())
    assert set(result) == KEYS
    assert set(result["backprojection"]) == {"mse", "baseline_mse"}
    manifest = json.loads((smoke_concept / "manifest.json").read_text())
    for name in ("concept.json", "likelihood_maps.png", "concept_sweep.png", "backprojection.png", "concept_model.pt"):
        assert name in manifest["sha256"], name
    assert all(math.isfinite(result[k]) for k in KEYS - {"backprojection", "normalisation", "paper"})
    # even a smoke model's maps order its cubes by angle, and its back-projection beats the mean cube
    assert abs(result["spearman_latent_angle"]) > 0.5, result
    assert result["backprojection"]["mse"] < result["backprojection"]["baseline_mse"], result


def test_a_second_run_into_the_same_folder_does_nothing(smoke_concept, smoke_model, mnist_root):
    before = (smoke_concept / "manifest.json").read_text()
    run_stage("eval concept", "preset=smoke", f"model_dir={smoke_model}", f"data.root={mnist_root}",
              "threads=1", "device=cpu", out=smoke_concept)
    assert (smoke_concept / "manifest.json").read_text() == before


def test_the_gpu_bf16_path_runs_on_cpu(smoke_model, tmp_path, mnist_root):
    # precision=bf16 runs the CUDA autocast path on a CPU. A fresh process with oneDNN capped below
    # AMX from the start: once oneDNN has run, the cap runtime sets lazily comes too late (SIGILL here)
    env = {"SLA_DATA_ROOT": str(mnist_root), "OMP_NUM_THREADS": "1", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}
    result = run_sla("eval", "concept", "preset=smoke", f"model_dir={smoke_model}", f"out={tmp_path / 'out'}",
                     "precision=bf16", "device=cpu", env=env)
    assert result.returncode == 0, result.stderr
    bf16 = json.loads((tmp_path / "out" / "concept.json").read_text())
    assert abs(bf16["spearman_latent_angle"]) > 0.5, bf16
    assert bf16["backprojection"]["mse"] < bf16["backprojection"]["baseline_mse"], bf16


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
    result = run_sla("eval", "concept", "preset=smoke", f"model_dir={model}", f"out={tmp_path / 'out'}",
                     env={"SLA_DATA_ROOT": str(mnist_root), "OMP_NUM_THREADS": "1"})
    assert_one_line_error(result, "no rotating cubes", CUBE_FILES[0])
    assert not (tmp_path / "out").exists()


def test_config_checks_name_the_key():
    with pytest.raises(ConfigError, match="model_dir=DIR is required"):
        compose("eval concept", "preset=smoke")
    for override, key in (("concept.terms=exact", "concept.terms"), ("concept.glyph=circle", "concept.glyph"),
                          ("concept.test_fraction=1.0", "concept.test_fraction")):
        with pytest.raises(ConfigError, match=key):
            compose("eval concept", "preset=smoke", "model_dir=m", override)
