"""The GPU's bf16 autocast path, run on CPU: training and scoring must work in mixed precision.

No GPU is needed: CPU autocast uses the same bf16 op lists, so a float32/bf16 mix-up in a stage
fails here rather than first on a GPU machine.
"""

from __future__ import annotations

import importlib
import json
import math

import pytest

from sla_cli import runtime
from sla_cli.commands import BY_NAME
from sla_cli.hydra_app import compose_config


@pytest.fixture
def bf16_on_cpu(monkeypatch):
    monkeypatch.setattr(runtime, "BF16_ON_CPU", True)


def run_stage(name: str, overrides: list[str], out_dir) -> None:
    cfg = compose_config(BY_NAME[name], overrides)
    importlib.import_module(BY_NAME[name].module).run(cfg, out_dir)


@pytest.fixture(scope="module")
def smoke_cubes(tmp_path_factory, mnist_root):
    out = tmp_path_factory.mktemp("cubes")
    run_stage("generate-cubes", ["preset=smoke", f"data.root={mnist_root}"], out)
    return out


def test_autocast_is_bf16_only_when_asked(bf16_on_cpu):
    import torch

    with runtime.autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16


def test_train_learns_under_bf16(bf16_on_cpu, smoke_cubes, tmp_path):
    run_stage("train", ["preset=smoke", f"dataset={smoke_cubes}"], tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert all(math.isfinite(v) for v in metrics.values() if isinstance(v, float))
    assert metrics["test_cross_mse"] < metrics["mean_image_mse"]


def test_classify_runs_under_bf16(bf16_on_cpu, mnist_root, tmp_path):
    run_stage("classify", ["preset=smoke", f"data.root={mnist_root}", "classify.train.epochs=1"], tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["mlp"]["accuracy"] > 0.5
    assert all(results["ae_set"][s]["accuracy"] > 0.5 for s in ("recon", "full", "calibrated"))
