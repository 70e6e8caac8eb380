"""`sla eval oneshot` with the two trained baselines (`sla train train.variant=shared_ae|contrastive` on
the session's smoke dataset): their rows and paired differences in oneshot.json, the contrastive codes
compared by cosine, and the stages that need a decoder refusing a contrastive model in one line."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch

from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import run_stage
from sla_cli.eval.oneshot import stage
from sla_cli.models.variants import new_model

ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
PROTOCOLS = ("paper", "same_instance", "new_instances")


@pytest.fixture(scope="module")
def baselines(tmp_path_factory, smoke_dataset):
    root = tmp_path_factory.mktemp("baselines")
    for variant in ("shared_ae", "contrastive"):
        run_stage(
            "train",
            "preset=smoke",
            "run.device=cpu",
            f"dataset_dir={smoke_dataset}",
            f"train.variant={variant}",
            "train.steps=200",
            out=root / variant,
        )
    return root


def test_contrastive_codes_are_compared_by_cosine():
    torch.manual_seed(0)
    frames = torch.rand(3, 5, 16)
    for variant, unit in (("contrastive", True), ("set", False), ("shared_ae", False)):
        trained = SimpleNamespace(model=new_model(variant, 3, 16, 8, 4, True, False), variant=variant)
        norms = stage._codes(trained, frames, torch.device("cpu"), 2, None).norm(dim=-1)
        assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5) == unit, variant


@pytest.mark.slow
def test_both_baselines_get_rows_with_intervals(smoke_model, baselines, tmp_path):
    out = tmp_path / "oneshot"
    run_stage(
        "eval oneshot",
        "preset=smoke",
        f"model_dir={smoke_model}",
        f"run.out={out}",
        "run.device=cpu",
        f"oneshot.baseline_model_dirs.shared_ae={baselines / 'shared_ae'}",
        f"oneshot.baseline_model_dirs.contrastive={baselines / 'contrastive'}",
    )
    r = json.loads((out / "oneshot.json").read_text())
    for name in ("shared_ae", "contrastive"):
        rows = r["baselines"][name]
        assert rows != "skipped" and set(rows) == set(PROTOCOLS)
        for p in PROTOCOLS:
            low, high = rows[p]["ci95"]
            assert 0 <= low <= rows[p]["mean_accuracy"] <= high <= 1 and rows[p]["n_probes"] > 0
            d = r["ours_minus"][name][p]
            assert d["ci95"][0] <= d["difference"] <= d["ci95"][1]
            assert d["difference"] == pytest.approx(
                r["protocols"][p]["mean_accuracy"] - rows[p]["mean_accuracy"], abs=2e-4
            )
    # trained models, not the same numbers as ours or as each other
    assert r["baselines"]["shared_ae"] != r["protocols"] != r["baselines"]["contrastive"]
    # the glyphs' prototype in its own context is itself: always right, for every method that encodes
    source = min(10, len(r["protocols"]["paper"]["per_context_accuracy"]) - 1)
    for name in ("shared_ae", "contrastive"):
        assert r["baselines"][name]["same_instance"]["per_context_accuracy"][source] == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("command", [("eval", "oneshot"), ("eval", "concept")])
def test_a_contrastive_model_is_refused_where_a_decoder_is_needed(baselines, tmp_path, command):
    out = tmp_path / "out"
    result = run_sla(
        *command, "preset=smoke", f"model_dir={baselines / 'contrastive'}", f"run.out={out}", "run.device=cpu", env=ENV
    )
    assert_one_line_error(result, f"model_dir={baselines / 'contrastive'}", "train.variant=contrastive")
    assert not out.exists()


@pytest.mark.slow
def test_eval_concept_refuses_a_shared_autoencoder(baselines, tmp_path):
    result = run_sla(
        "eval",
        "concept",
        "preset=smoke",
        f"model_dir={baselines / 'shared_ae'}",
        f"run.out={tmp_path / 'out'}",
        "run.device=cpu",
        env=ENV,
    )
    assert_one_line_error(result, "train.variant=shared_ae", "per-context decoders")
