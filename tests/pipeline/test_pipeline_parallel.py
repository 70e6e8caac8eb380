"""End to end (slow): `sla pipeline pipeline.jobs=2` runs two stages at once and gives the report one
stage at a time gives; Ctrl-C stops every running child (each keeps what it would keep alone), the
log says which stages were stopped, and the same command finishes the run."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from helpers.pipeline_run import finish, normalized, start, wait_for

# the two trainings that run side by side (model, model_self_only) and the eval that reads both; the
# other stages have their own tests
FEWER = ["pipeline.skip=[classify,model_shared_ae,model_contrastive,concept]"]


@pytest.mark.slow
def test_two_jobs_give_the_one_at_a_time_report_and_ctrl_c_stops_every_child(tmp_path, mnist_root):
    one = tmp_path / "one"
    code, output = finish(start(one, mnist_root, *FEWER))
    assert code == 0, output[-3000:]

    out = tmp_path / "two"
    proc = start(out, mnist_root, *FEWER, "pipeline.jobs=2")
    # stopped while both trainings run: model has a checkpoint, model_self_only has started
    wait_for(
        lambda: (
            list((out / "model" / "checkpoints").glob("step_*.pt")) and (out / "logs" / "model_self_only.log").exists()
        ),
        proc,
    )
    proc.send_signal(signal.SIGINT)
    stopped_at = time.monotonic()
    code, output = finish(proc)
    assert code == 130, output[-3000:]
    assert time.monotonic() - stopped_at < 30, "Ctrl-C took longer than 30 s to stop the pipeline and its children"
    assert "interrupted during stages model, model_self_only" in output or "interrupted during stage model" in output
    running = subprocess.run(["pgrep", "-f", f"run.out={out}/"], capture_output=True, text=True).stdout
    assert not running.strip(), f"children still running: {running}"
    assert not list(out.glob("*/.sla-lock")) and not (out / ".sla-lock").exists()  # every lock released
    log = json.loads((out / "pipeline.json").read_text())["stages"]
    assert log["model"]["outcome"] == "interrupted" and not (out / "model" / "manifest.json").exists()
    assert log["oneshot"]["outcome"] == "not run" and log["oneshot"]["reason"].startswith(
        "the pipeline was stopped (Ctrl-C) at model"
    )
    assert "train: interrupted" in (out / "logs" / "model.log").read_text()  # the child's own one line

    code, output = finish(start(out, mnist_root, *FEWER, "pipeline.jobs=2"))
    assert code == 0, output[-3000:]
    assert "resuming the unfinished run" in (out / "logs" / "model.log").read_text()  # from its checkpoint
    started = [line for line in output.splitlines() if " started (sla " in line]
    assert {line.split()[1] for line in started} >= {"model", "oneshot"}
    assert normalized(out / "report.md", out).replace(" pipeline.jobs=2", "") == normalized(one / "report.md", one)
