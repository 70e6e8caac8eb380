"""Issue 9 through the real CLI (subprocesses): two `sla train` into one folder, SIGTERM and Ctrl-C,
the rerun that goes on (what an interrupted `make demo` does; in-process), overwrite with
run.device=cuda, and failed sweeps. Each user-facing failure is one line with its exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers.cli import REPO, assert_one_line_error, run_sla
from helpers.stages import run_stage
from helpers.tiny_dataset import SINGLE_THREAD_ENV, make_dataset
from sla_cli import runfolder, verify
from sla_cli.training import checkpoint

ENV = {**os.environ, "PYTHONPATH": str(REPO), **SINGLE_THREAD_ENV}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("data") / "cubes", mnist_root, n_train=100, n_test=30)


def train_args(dataset, out, *extra):
    return (
        "train",
        "preset=smoke",
        "run.device=cpu",
        "run.threads=1",
        f"dataset_dir={dataset}",
        f"run.out={out}",
        "run.checkpoint_every=20",
        "run.log_every=20",
        "metrics.test_digits=20",
        "metrics.latent_digits=10",
        *extra,
    )


def start_sla(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "sla_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=REPO,
    )


def wait_for(predicate, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_two_trains_into_one_folder_sigterm_and_the_rerun_that_goes_on(dataset, tmp_path, capsys):
    out = tmp_path / "model"
    args = [train_args(dataset, out, "train.steps=1000000", f"seed={seed}") for seed in (0, 1)]
    procs = [start_sla(*a) for a in args]  # at once: whichever locks the folder first trains
    try:
        wait_for(lambda: any(p.poll() is not None for p in procs))
        loser = next(i for i, p in enumerate(procs) if p.poll() is not None)
        winner = procs[1 - loser]
        _, err = procs[loser].communicate()
        refused = subprocess.CompletedProcess(args[loser], procs[loser].returncode, "", err)
        assert_one_line_error(refused, "is in use by another sla run", f"pid {winner.pid}", code=1)
        wait_for(lambda: checkpoint.list_checkpoints(out) or winner.poll() is not None)
        winner.send_signal(signal.SIGTERM)  # what a cluster scheduler sends
        _, err = winner.communicate(timeout=60)
    finally:
        for p in procs:
            p.kill()
    assert winner.returncode == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and str(out) in lines[0], err
    last = checkpoint.list_checkpoints(out)[-1]
    assert checkpoint.load(last[1])["step"] == last[0]  # the last checkpoint is intact
    assert not (out / runfolder.MANIFEST).exists() and not (out / runfolder.LOCK).exists()
    # the same command again, in this process to save a start-up (stop_after only bounds this
    # test's time; it is not part of the run)
    run_stage(*args[1 - loser], f"run.stop_after={last[0] + 20}", out=out)
    assert f"resuming the unfinished run in {out} from step {last[0]}" in capsys.readouterr().err
    assert checkpoint.list_checkpoints(out)[-1][0] == last[0] + 20


def wait_for_sla_handlers(proc, timeout: float = 60) -> None:
    """Until the child has run sla's first line (interrupt.install: SIGTERM caught, which Python's own
    start-up never does; Linux's /proc/PID/status SigCgt). Before that line no code of ours runs: the
    interpreter and site-packages' start-up is Python's, and on a loaded machine it can take 0.2 s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.005)
    raise AssertionError("sla never installed its signal handlers")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.2, 1.0])
def test_ctrl_c_in_the_first_second_is_one_line_exit_130(tmp_path, delay):
    proc = start_sla("generate-cubes", "preset=smoke", f"run.out={tmp_path / 'data'}")
    wait_for_sla_handlers(proc)
    time.sleep(delay)  # Hydra and torch are being imported, or the config composed
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and [line for line in err.splitlines() if line.strip()][-1].endswith("interrupted")


def test_sigterm_before_a_job_starts_is_exit_143(tmp_path):
    proc = start_sla("generate-cubes", "preset=smoke", f"run.out={tmp_path / 'data'}")
    wait_for_sla_handlers(proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err and "interrupted" in err, err


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_overwrite_with_device_cuda_keeps_the_finished_run(dataset, tmp_path, capsys):
    out = tmp_path / "model"
    run_stage(*train_args(dataset, out, "train.steps=20"), out=out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = run_sla(
        *train_args(dataset, out, "train.steps=20", "run.overwrite=true", "run.device=cuda"), env=SINGLE_THREAD_ENV
    )
    assert_one_line_error(result, "run.device=cuda", code=2)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    capsys.readouterr()
    assert verify.main([str(out)]) == 0 and capsys.readouterr().out.startswith(f"ok  {out}  (model")


@pytest.mark.slow
def test_out_equal_to_the_input_and_paths_hydra_cannot_parse(dataset, tmp_path):
    result = run_sla("train", "preset=smoke", f"dataset_dir={dataset}", f"run.out={dataset}")
    assert_one_line_error(result, "is the input folder dataset_dir", code=2)
    result = run_sla("classify", "preset=smoke", f"run.out={tmp_path}/données")
    assert_one_line_error(result, f"\"run.out='{tmp_path}/données'\"", code=2)
    assert not (tmp_path / "données").exists()


@pytest.mark.slow
def test_a_failed_sweep_leaves_no_folder(tmp_path):
    result = run_sla(
        "generate-cubes",
        "-m",
        "seed=0,1",
        "preset=smoke",
        f"run.out={tmp_path / 'sweep'}",
        f"run.data_root={tmp_path / 'nowhere'}",
    )
    assert_one_line_error(result, "MNIST not found", code=1)
    assert not (tmp_path / "sweep").exists()
