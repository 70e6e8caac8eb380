"""A two-seed sweep through the submitit launcher writes two complete run folders; `sla aggregate`
turns them into one table of mean +- std over the two seeds."""

from __future__ import annotations

import json

import pytest

from helpers.cli import run_sla
from helpers.tiny_dataset import SINGLE_THREAD_ENV, make_dataset

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the cluster extra is not installed")
pytestmark = pytest.mark.slow


def test_submitit_local_sweep_then_aggregate(tmp_path, mnist_root):
    dataset = make_dataset(tmp_path / "ds", mnist_root, n_contexts=3, size=10, n_train=40, n_test=20)
    sweep = tmp_path / "sweep"
    result = run_sla(
        "train",
        "-m",
        "hydra/launcher=local",
        "seed=0,1",
        "preset=smoke",
        f"dataset_dir={dataset}",
        "train.steps=6",
        "run.checkpoint_every=3",
        "metrics.test_digits=10",
        "metrics.latent_digits=6",
        f"run.out={sweep}",
        env=SINGLE_THREAD_ENV,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifests = [json.loads((sweep / job / "manifest.json").read_text()) for job in ("0", "1")]
    assert [m["seed"] for m in manifests] == [0, 1]
    assert (sweep / ".submitit").is_dir()  # submitit's logs, beside the run folders

    result = run_sla("aggregate", str(sweep))
    assert result.returncode == 0, result.stderr
    agg = json.loads((sweep / "aggregate.json").read_text())
    assert agg["group_keys"] == [] and agg["incomplete"] == []
    (group,) = agg["groups"]
    assert group["n"] == 2 and group["seeds"] == [0, 1]
    per_run = [json.loads((sweep / job / "metrics.json").read_text())["test_cross_mse"] for job in ("0", "1")]
    assert group["metrics"]["test_cross_mse"]["mean"] == pytest.approx(sum(per_run) / 2)
    assert "test_cross_mse" in (sweep / "aggregate.md").read_text()
