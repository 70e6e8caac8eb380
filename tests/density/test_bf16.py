"""The GPU's bf16 autocast path on CPU (run.precision=bf16): each density model trains and evaluates."""

from __future__ import annotations

import json
import math

import pytest

from helpers.stages import run_stage
from sla_cli import runtime


@pytest.fixture
def restore_precision():
    yield
    runtime.configure(0, "auto")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["made", "vae", "dae"])
def test_density_learns_under_bf16(restore_precision, mnist_root, tmp_path, model):
    run_stage(
        "density",
        "preset=smoke",
        f"density.model={model}",
        f"run.data_root={mnist_root}",
        "run.precision=bf16",
        "density.train_size=500",
        "density.test_size=50",
        "density.n_samples=2",
        "density.made.direct=false",
        out=tmp_path,
    )
    result = json.loads((tmp_path / "density.json").read_text())
    for rows in result["curves"].values():
        assert all(math.isfinite(r["train_loss"]) for r in rows)
        assert rows[-1]["val_loss"] < 784 * math.log(2)  # below a fair coin per pixel
