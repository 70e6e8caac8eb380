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
        run.save_json(
            "metrics.json",
            {"steps": 10, "world_size": 1, "device": "cpu", "test_cross_mse": mse, "nested": {"acc": 10 * mse}},
        )
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
    assert result["group_keys"] == ["train.lr"]  # the seed is averaged over, not a group
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
    assert "| `test_cross_mse` | 3 ± 2.6 | 6 ± 1.4 |" in md
    assert "- 5: no manifest.json" in md and "- 6: empty" in md


@pytest.mark.parametrize("multirun", ["absent", "malformed"])
def test_groups_come_from_the_configs_not_multirun_yaml(sweep, multirun):
    if multirun == "absent":
        (sweep / "multirun.yaml").unlink()
    else:
        (sweep / "multirun.yaml").write_text("hydra: [overrides: {task: 3")
    assert main([str(sweep)]) == 0
    result = json.loads((sweep / "aggregate.json").read_text())
    assert result["group_keys"] == ["train.lr"]  # seed and out differ too, but are not groups
    assert sorted(g["n"] for g in result["groups"]) == [2, 3]


def test_mean_std():
    assert mean_std([2.0]) == (2.0, None)
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(math.sqrt(2)))


@pytest.mark.slow
def test_not_a_sweep_is_one_line(tmp_path):
    assert_one_line_error(run_sla("aggregate", str(tmp_path / "nope")), "does not exist", code=1)
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run_sla("aggregate", str(tmp_path / "empty")), "holds no run folders", code=1)
    assert_one_line_error(run_sla("aggregate"), "SWEEP_DIR", code=2)


def density_run(folder, seed: int, model: str, nll: float, **how) -> None:
    cfg = OmegaConf.create(
        {
            "seed": seed,
            "out": str(folder),
            "device": "cpu",
            "threads": 1,
            "data": {"root": "/data"},
            "density": {"model": model, "lr": 0.003, "resume": "auto"},
            **how,
        }
    )
    with runfolder.Run(folder, "density", cfg) as run:
        run.save_json("density.json", {"test_nll_nats": nll})


def test_runs_that_differ_in_more_than_the_seed_are_never_averaged(tmp_path):
    """A MADE and a VAE swept over seeds into one folder once came out as one `test_nll_nats 184.7 +- 22`."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    multirun_yaml(sweep, "seed=0,1")  # what the sweep named: the seed alone
    for job, (seed, model, nll) in enumerate(
        [(0, "made", 90.0), (1, "made", 92.0), (0, "vae", 100.0), (1, "vae", 104.0)]
    ):
        density_run(sweep / str(job), seed, model, nll)
    assert main([str(sweep)]) == 0
    result = json.loads((sweep / "aggregate.json").read_text())
    assert result["group_keys"] == ["density.model"]
    groups = {g["label"]: g["metrics"]["test_nll_nats"] for g in result["groups"]}
    assert groups.keys() == {"density.model=made", "density.model=vae"}
    assert groups["density.model=made"]["mean"] == 91.0 and groups["density.model=vae"]["mean"] == 102.0


def test_how_to_run_keys_do_not_split_an_experiment(tmp_path):
    sweep = tmp_path / "sweep"
    density_run(sweep / "0", 0, "made", 90.0)
    density_run(
        sweep / "1",
        1,
        "made",
        92.0,
        device="cuda",
        threads=8,
        precision="bf16",
        overwrite=True,
        data={"root": "/elsewhere", "download": True},
    )
    assert main([str(sweep)]) == 0
    result = json.loads((sweep / "aggregate.json").read_text())
    assert result["group_keys"] == [] and [g["n"] for g in result["groups"]] == [2]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: (f / "manifest.json").write_text("[1, 2]"), "not an sla manifest (a JSON list"),
        (lambda f: (f / "metrics.json").write_text("[1]"), "does not match its sha256"),
        (lambda f: _rehash(f, "metrics.json", "[1]"), "holds a JSON list, not an object"),
        (lambda f: _rename_out(f), "leads outside"),
    ],
)
def test_a_corrupt_run_folder_refuses_the_aggregate_in_one_line(sweep, capsys, damage, message):
    damage(sweep / "1")
    assert main([str(sweep)]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("sla aggregate: error: ") and message in err[0], err
    assert not (sweep / "aggregate.json").exists()


def _rehash(folder, name: str, text: str) -> None:
    (folder / name).write_text(text)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"][name] = runfolder.sha256(folder / name)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _rename_out(folder) -> None:
    """metrics.json replaced by a link to a copy outside the folder (same bytes, same hash)."""
    outside = folder.parent.parent / "outside.json"
    (folder / "metrics.json").rename(outside)
    (folder / "metrics.json").symlink_to(outside)


def test_a_folder_where_the_aggregate_goes_is_one_line(sweep, capsys):
    (sweep / "aggregate.md").mkdir()
    assert main([str(sweep)]) == 1
    assert "aggregate.md is a folder" in capsys.readouterr().err
