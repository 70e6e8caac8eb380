"""bench/compare_runs.py: two versions' runs of the same commands compared file by file and number by number."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch
from omegaconf import OmegaConf

from helpers.cli import REPO
from sla_cli import runfolder


def run(folder, numbers: dict, weights: np.ndarray, seconds: float = 1.0) -> None:
    cfg = OmegaConf.create({"preset": "smoke", "seed": 0, "run": {"device": "cpu", "threads": 1, "overwrite": False}})
    with runfolder.Run(folder, "model", cfg) as r:
        r.save_json("metrics.json", numbers)
        r.save_npy("weights.npy", weights)
        r.save_text("metrics.csv", f"step,loss,train_seconds\n1,{numbers['mse']},{seconds}\n")
        r.save_torch("model.pt", {"state": torch.from_numpy(weights), "run_config": {"out": str(folder)}})
        r.describe()


def compare(a, b):
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "compare_runs.py"), str(a), str(b)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def test_same_numbers_pass_and_any_other_number_fails(tmp_path):
    w = np.arange(6.0)
    run(tmp_path / "a" / "model", {"mse": 0.5, "train_seconds": 10.0, "per_seed": [{"acc": 0.9}]}, w)
    run(tmp_path / "b" / "model", {"mse": 0.5, "train_seconds": 12.5, "per_seed": [{"acc": 0.9}]}, w, seconds=2.0)
    result = compare(tmp_path / "a", tmp_path / "b")
    assert result.returncode == 0, result.stdout
    assert "| model | `metrics.json` | same numbers |" in result.stdout  # a wall time is not a number of the run
    assert "| model | `weights.npy` | bit for bit |" in result.stdout
    # a wall-time column and the out path inside a checkpoint differ in bytes, not in numbers
    assert "`metrics.csv` | same numbers" in result.stdout and "`model.pt` | same numbers" in result.stdout
    run(tmp_path / "c" / "model", {"mse": 0.5, "train_seconds": 10.0, "per_seed": [{"acc": 0.91}]}, w + 1e-7)
    result = compare(tmp_path / "a", tmp_path / "c")
    assert result.returncode == 1
    assert (
        "DIFFERENT: 1 values, e.g. per_seed.0.acc" in result.stdout
        and "`weights.npy` | DIFFERENT bytes" in result.stdout
    )
