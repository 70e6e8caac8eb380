"""`sla aggregate SWEEP_DIR` on hand-made sweeps with known numbers (no training)."""

from __future__ import annotations

import json
import math

import pytest
from omegaconf import OmegaConf

from helpers.cli import assert_one_line_error, run_sla
from sla_cli import runfolder
from sla_cli.aggregate.cli import main
from sla_cli.aggregate.summarize import mean_std


def fake_run(folder, seed: int, lr: float, mse: float, complete: bool = True) -> None:
    """A train run folder as `sla train` leaves it: config.yaml, metrics.json, and manifest.json when complete."""
    cfg = OmegaConf.create({"seed": seed, "out": str(folder), "train": {"lr": lr, "steps": 10}, "threads": 1})
    with runfolder.Run(folder, "model", cfg) as run:
        run.save_json("metrics.json", {"steps": 10, "world_size": 1, "device": "cpu",
                                       "test_cross_mse": mse, "nested": {"acc": 10 * mse}})
        if not complete:
            run.leave_incomplete()


def multirun_yaml(sweep, *task: str) -> None:
    OmegaConf.save(OmegaConf.create({"hydra": {"overrides": {"task": list(task)}}}), sweep / "multirun.yaml")


@pytest.fixture
def sweep(tmp_path):
    """seed=0,1,2 x train.lr=0.1,0.2, as jobs 0..5; job 5 died (no manifest); job 6 never started."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    multirun_yaml(sweep, "seed=0,1,2", "train.lr=0.1,0.2", "preset=smoke")
    mse = {(0.1, 0): 1.0, (0.1, 1): 2.0, (0.1, 2): 6.0, (0.2, 0): 5.0, (0.2, 1): 7.0, (0.2, 2): 99.0}
    for job, (lr, seed) in enumerate(sorted(mse)):
        fake_run(sweep / str(job), seed, lr, mse[lr, seed], complete=job != 5)
    (sweep / "6").mkdir()
    (sweep / ".submitit").mkdir()  # submitit's logs: not a job
    return sweep


def test_mean_and_std_over_seeds_per_swept_value_incomplete_listed(sweep):
    assert main([str(sweep)]) == 0
    result = json.loads((sweep / "aggregate.json").read_text())
    assert result["swept_keys"] == ["train.lr"]  # the seed is averaged over, not a group
    groups = {g["label"]: g for g in result["groups"]}
    assert set(groups) == {"train.lr=0.1", "train.lr=0.2"}
    low, high = groups["train.lr=0.1"], groups["train.lr=0.2"]
    assert (low["n"], low["seeds"], high["n"], high["seeds"]) == (3, [0, 1, 2], 2, [0, 1])
    assert low["metrics"]["test_cross_mse"]["mean"] == pytest.approx(3.0)
    assert low["metrics"]["test_cross_mse"]["std"] == pytest.approx(math.sqrt(7))  # (4 + 1 + 9) / 2
    assert high["metrics"]["test_cross_mse"]["mean"] == pytest.approx(6.0)  # 99 is in the dead job: not averaged
    assert high["metrics"]["nested.acc"]["mean"] == pytest.approx(60.0)
    assert "world_size" not in low["metrics"] and "steps" not in low["metrics"]
    assert {i["folder"] for i in result["incomplete"]} == {"5", "6"}
    md = (sweep / "aggregate.md").read_text()
    assert "| test_cross_mse | 3 ± 2.6 | 6 ± 1.4 |" in md
    assert "`5`: no manifest.json" in md and "`6`: empty" in md


def test_without_multirun_yaml_the_differing_keys_are_the_groups(sweep):
    (sweep / "multirun.yaml").unlink()
    assert main([str(sweep)]) == 0
    result = json.loads((sweep / "aggregate.json").read_text())
    assert result["swept_keys"] == ["train.lr"]  # seed and out differ too, but are not groups
    assert sorted(g["n"] for g in result["groups"]) == [2, 3]


def test_mean_std():
    assert mean_std([2.0]) == (2.0, None)
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))


def test_not_a_sweep_is_one_line(tmp_path):
    assert_one_line_error(run_sla("aggregate", str(tmp_path / "nope")), "does not exist", code=1)
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_sla("aggregate", str(tmp_path / "empty")), "holds no run folders", code=1)
    assert_one_line_error(run_sla("aggregate"), "SWEEP_DIR", code=2)
