"""The GPU's bf16 autocast path, run on CPU with run.precision=bf16: training and scoring must work in
mixed precision.

No GPU is needed: CPU autocast uses the same bf16 op lists, so a float32/bf16 mix-up in a stage
fails here rather than first on a GPU machine.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from helpers.stages import run_stage
from sla_cli import runtime


@pytest.fixture
def restore_precision():
    yield
    runtime.configure(0, "auto")


@pytest.mark.parametrize(
    "precision, expected", [("bf16", torch.bfloat16), ("auto", torch.float32), ("fp32", torch.float32)]
)
def test_autocast_on_cpu_follows_the_precision_setting(restore_precision, precision, expected):
    runtime.configure(0, precision)
    with runtime.autocast(torch.device("cpu")):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == expected


@pytest.mark.slow
def test_train_learns_under_bf16(restore_precision, smoke_dataset, tmp_path):
    run_stage("train", "preset=smoke", f"dataset_dir={smoke_dataset}", "run.precision=bf16", out=tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert all(math.isfinite(v) for v in metrics.values() if isinstance(v, float))
    assert metrics["test_cross_mse"] < metrics["mean_image_mse"]


@pytest.mark.slow
def test_classify_runs_under_bf16(restore_precision, mnist_root, tmp_path):
    run_stage(
        "classify",
        "preset=smoke",
        f"run.data_root={mnist_root}",
        "classify.train.epochs=1",
        "run.precision=bf16",
        out=tmp_path,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["mlp"]["accuracy"] > 0.5
    assert all(results["ae_set"][s]["accuracy"] > 0.5 for s in ("recon", "full", "calibrated"))
