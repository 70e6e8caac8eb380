"""pipeline.jobs > 1, its parts without processes that train: the schedule's length (what the
pre-flight prints), a child's outcome from its exit code and log, and the arguments a step runs with
(the same config as the pipeline composed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sla_cli.pipeline import parallel
from sla_cli.pipeline.plan import compose_all
from sla_cli.pipeline.registry import STEP_BY_FOLDER


def _step(name: str, *reads: str):
    return SimpleNamespace(name=name, step=SimpleNamespace(inputs={f"{r}_dir": r for r in reads}))


DEMO_SHAPE = [  # the pipeline's dependency shape: classify beside four trainings, two evals at the end
    _step("dataset"),
    _step("model", "dataset"),
    _step("classify"),
    _step("self_only", "dataset"),
    _step("shared", "dataset"),
    _step("oneshot", "model", "self_only", "shared"),
    _step("concept", "model"),
]
SECONDS = {"dataset": 5, "model": 100, "classify": 450, "self_only": 200, "shared": 220, "oneshot": 6, "concept": 30}


def test_one_job_takes_the_sum_and_two_jobs_run_classify_beside_the_trainings():
    assert parallel.makespan(DEMO_SHAPE, SECONDS, 1) == sum(SECONDS.values())
    # worker 1: dataset 0-5, model 5-105, self_only 105-305, shared 305-525, oneshot 525-531;
    # worker 2: classify 0-450, concept 450-480 (the first ready step in plan order when a worker frees)
    two = parallel.makespan(DEMO_SHAPE, SECONDS, 2)
    assert two == 531
    # a worker each: the longest chain, classify (450 s; the trainings' chain is 5 + 220 + 6)
    assert parallel.makespan(DEMO_SHAPE, SECONDS, 7) == 450
    assert parallel.makespan(DEMO_SHAPE, SECONDS, 7) < two < sum(SECONDS.values())


def test_a_step_never_starts_before_the_folders_it_reads():
    chain = [_step("a"), _step("b", "a"), _step("c", "b")]
    assert parallel.makespan(chain, {"a": 1, "b": 2, "c": 3}, 3) == 6
    # a folder outside the plan (skipped) does not hold anything up
    assert parallel.makespan([_step("b", "skipped_one")], {"b": 2}, 2) == 2


def _child(tmp_path: Path, code: int, log_text: str, manifest: bool = False, stage: str = "train"):
    folder = tmp_path / "model"
    folder.mkdir()
    if manifest:
        (folder / "manifest.json").write_text("{}")
    log = tmp_path / "model.log"
    log.write_text(log_text)
    planned = SimpleNamespace(folder=folder, stage=SimpleNamespace(name=stage))
    return parallel.Child(planned, SimpleNamespace(returncode=code), log, 0.0)


@pytest.mark.parametrize(
    "code, text, manifest, expected",
    [
        (0, "train: 120/120\n", True, ("complete", "")),
        (0, "stopped\n", False, ("incomplete", None)),
        (130, "sla train: interrupted\n", False, ("interrupted", "Ctrl-C during this stage")),
        (143, "\n", False, ("interrupted", "SIGTERM during this stage")),
        (2, "progress\r100%\rsla train: error: train.steps=-1 must be >= 1\n\n", False, ("refused", "train.steps=-1")),
        (1, "sla train: error: the dataset is corrupt\n", False, ("failed", "the dataset is corrupt (exit 1;")),
    ],
)
def test_a_childs_outcome_comes_from_its_exit_code_folder_and_last_line(tmp_path, code, text, manifest, expected):
    outcome, reason = parallel.outcome_of(_child(tmp_path, code, text, manifest))
    assert outcome == expected[0]
    if expected[1] is not None:
        assert reason.startswith(expected[1]), reason
    if outcome in ("refused", "failed"):
        assert "sla train: error:" not in reason and str(tmp_path / "model.log") in reason


def test_last_line_reads_past_carriage_returns_and_blank_lines(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("a\n" * 5000 + "train: 10%\rtrain: 20%\r\n\n")
    assert parallel.last_line(log) == "train: 20%"
    assert parallel.last_line(tmp_path / "absent.log") == ""


@pytest.mark.slow
def test_a_step_run_on_its_own_composes_the_config_the_pipeline_planned(tmp_path):
    """What a child process runs (`sla <command> preset=P ...` from PlannedStep.command) gives the same
    config as the plan, per-stage and routed overrides included (checked with --cfg job, nothing runs)."""
    from omegaconf import OmegaConf

    from helpers.cli import REPO

    plan = compose_all(tmp_path / "out", "smoke", ["seed=3", "model_self_only:train.steps=9"], [])
    for name in ("model_self_only", "oneshot"):
        planned = next(p for p in plan.steps if p.name == name)
        assert planned.step is STEP_BY_FOLDER[name]
        shown = subprocess.run(
            [sys.executable, "-m", "sla_cli", *planned.command("smoke"), "--cfg", "job"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert OmegaConf.to_container(OmegaConf.create(shown)) == OmegaConf.to_container(planned.cfg), name


def test_a_step_on_torchs_default_threads_gets_its_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 8)
    default, one = (SimpleNamespace(cfg=SimpleNamespace(run=SimpleNamespace(threads=t))) for t in (0, 1))
    assert parallel.threads_each(default, 2) == ["run.threads=4"]
    assert parallel.threads_each(default, 16) == ["run.threads=1"]
    assert parallel.threads_each(one, 2) == []  # what the user or the preset set is kept


def test_a_step_that_cannot_start_is_failed_in_one_line_and_the_rest_go_on(tmp_path):
    """OUT/logs cannot be made (a file is in the way, as a full disk would refuse it): the step is
    logged as failed with the reason, the step that reads it is not run, nothing raises."""
    (tmp_path / parallel.LOGS).write_text("in the way")
    steps = [_step("model"), _step("oneshot", "model")]
    for s in steps:
        s.skipped, s.command = "", lambda preset: ["train"]
    plan = SimpleNamespace(out=tmp_path, preset="smoke", active=lambda: steps)
    outcomes, reasons = {}, {}

    def begin(planned):  # as the runner decides: a step whose input failed is not run
        return ("not run", "needs model/") if outcomes.get("model") == "failed" else None

    def settle(planned, outcome, reason, seconds):
        outcomes[planned.name], reasons[planned.name] = outcome, reason

    parallel.run_all(plan, 2, settle, begin)
    assert outcomes == {"model": "failed", "oneshot": "not run"}
    assert reasons["model"].startswith("could not start it: ")
