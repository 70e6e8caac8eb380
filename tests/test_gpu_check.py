"""bench/gpu_check.py (`make gpu-check`): its dry run on the CPU, step limits, failures, the scale hook, the wheels."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.cli import REPO
from helpers.tiny_dataset import SINGLE_THREAD_ENV

SPEC = importlib.util.spec_from_file_location("gpu_check", REPO / "bench" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpu_check)

MACHINE_KEYS = {"device", "memory_gib", "driver", "torch", "date"}


def run_check(tmp_path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "gpu_check.py"),
            "--out",
            str(tmp_path / "out"),
            "--device",
            "cpu",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **SINGLE_THREAD_ENV, **(env or {})},
        timeout=1800,
    )


def records(tmp_path) -> dict[str, dict]:
    return {
        p.stem: json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json") if p.stem in gpu_check.STEP_NAMES
    }


@pytest.mark.slow
def test_dry_run_runs_every_step_at_the_smoke_preset(mnist_root, tmp_path):
    done = run_check(tmp_path, env={"SLA_DATA_ROOT": str(mnist_root)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    steps = records(tmp_path)
    assert set(steps) == set(gpu_check.STEP_NAMES)
    assert {s["status"] for name, s in steps.items() if name != "scale"} == {"passed"}
    assert steps["scale"]["status"] in ("skipped", "passed")  # passed once bench/scale.py lands
    for s in steps.values():
        assert s["dry_run"] and MACHINE_KEYS <= set(s["machine"])
    assert steps["tests"]["figures"]["tests"] >= 5 and steps["tests"]["figures"]["skipped"] >= 5  # no CUDA here
    assert steps["train"]["figures"]["steps"] == 40 and steps["train"]["figures"]["steps_per_s"] > 0
    assert steps["train_step"]["figures"]["fast_over_autograd"]["wall"] > 0
    assert steps["classify"]["figures"]["mlp_accuracy"] > 0.5
    assert all(t["met"] is None for s in steps.values() for t in s["targets"])  # a dry run judges no target
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Dry run" in summary and all(f"| {name} |" in summary for name in gpu_check.STEP_NAMES)


@pytest.mark.slow
def test_a_step_past_its_limit_is_stopped_and_the_next_one_runs(tmp_path):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    start = time.monotonic()
    first = gpu_check.run_commands([sleeper, [sys.executable, "-c", "print(1)"]], 1.5, tmp_path / "a.log", os.environ)
    assert first["status"] == "timed out" and time.monotonic() - start < 20
    assert "stopped at the step's limit" in (tmp_path / "a.log").read_text()
    second = gpu_check.run_commands([[sys.executable, "-c", "print('next')"]], 30, tmp_path / "b.log", os.environ)
    assert second["status"] == "passed" and "next" in (tmp_path / "b.log").read_text()


@pytest.mark.slow
def test_scale_hook_runs_the_script_and_a_failure_is_reported(mnist_root, tmp_path):
    script = tmp_path / "scale.py"
    script.write_text(
        "import argparse, json, pathlib, sys\n"
        "p = argparse.ArgumentParser(); p.add_argument('--gpu-check', action='store_true')\n"
        "p.add_argument('--out'); p.add_argument('--budget-s', type=int); p.add_argument('--device')\n"
        "p.add_argument('--dry-run', action='store_true'); a = p.parse_args()\n"
        "assert a.gpu_check and a.dry_run and a.device == 'cpu' and 0 < a.budget_s <= 60\n"
        "pathlib.Path(a.out).mkdir(parents=True)\n"
        "(pathlib.Path(a.out) / 'points.json').write_text(json.dumps([{'name': 'h128', 'x': 1}]))\n"
    )
    mnist = {"SLA_DATA_ROOT": str(mnist_root)}  # the steps are not started without it
    done = run_check(tmp_path, "--steps", "scale", "--scale-script", str(script), env=mnist)
    assert done.returncode == 0, done.stdout[-2000:]
    scale = records(tmp_path)["scale"]
    assert scale["status"] == "passed" and scale["figures"]["points"] == [{"name": "h128", "x": 1}]

    script.write_text("import sys; sys.exit(3)\n")
    done = run_check(tmp_path, "--steps", "scale", "--scale-script", str(script), env=mnist)
    assert done.returncode == 1
    scale = records(tmp_path)["scale"]
    assert scale["status"] == "failed" and scale["returncode"] == 3
    assert "| scale | failed |" in (tmp_path / "out" / "summary.md").read_text()


def test_without_mnist_no_step_starts_and_the_summary_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "find_mnist", lambda: None)  # as on a machine where none was carried
    monkeypatch.setattr(
        sys, "argv", ["gpu_check.py", "--out", str(tmp_path / "out"), "--device", "cpu", "--steps", "train"]
    )
    with pytest.raises(SystemExit) as done:
        gpu_check.main()
    assert done.value.code == 1
    train = records(tmp_path)["train"]
    assert train["status"] == "not run" and "MNIST not found" in train["reason"]
    assert "MNIST not found" in (tmp_path / "out" / "summary.md").read_text()


def test_unknown_step_is_one_line_error(tmp_path):
    done = run_check(tmp_path, "--steps", "train,bogus")
    assert done.returncode != 0 and "unknown step 'bogus'" in done.stderr and "Traceback" not in done.stderr


def _shared_wheels() -> Path | None:
    for folder in (
        REPO.parent / "shared" / "wheels",
        Path(os.environ.get("SLA_DATA_ROOT", "/nonexistent")).parent / "wheels",
        Path("/work/shared/wheels"),
    ):
        if any(folder.glob("hydra_core-*.whl")):
            return folder
    return None


@pytest.mark.slow
def test_the_carried_wheels_install_offline(tmp_path):
    """What the GPU machine does: Hydra, omegaconf and antlr4 from the wheels, no registry (--no-index)."""
    folder = _shared_wheels()
    if folder is None:
        pytest.skip("the shared wheels (../shared/wheels) are not on this machine")
    assert gpu_check.install_wheels(folder, tmp_path / "site") is None
    for package in ("hydra", "omegaconf", "antlr4"):
        assert (tmp_path / "site" / package / "__init__.py").is_file(), package
