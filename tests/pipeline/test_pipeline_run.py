"""End to end (slow): `sla pipeline preset=smoke` straight through, and stopped by Ctrl-C in the middle
of train then run again: the same report; SIGTERM stops it with 143; every file a stage writes is one
the registry declares."""

from __future__ import annotations

import json
import signal
import time

import pytest

from helpers.pipeline_run import finish, normalized, start, wait_for
from sla_cli.pipeline.registry import BY_KIND


@pytest.mark.slow
def test_ctrl_c_stops_the_pipeline_and_the_same_command_finishes_it(tmp_path, mnist_root):
    straight = tmp_path / "straight"
    code, output = finish(start(straight, mnist_root))
    assert code == 0, output[-3000:]
    for folder in straight.iterdir():  # what each stage wrote is what the registry declares for its kind
        manifest = folder / "manifest.json"
        if manifest.exists():
            m = json.loads(manifest.read_text())
            names = set(BY_KIND[m["kind"]].file_names) | {"config.yaml"}
            assert set(m["sha256"]) <= names, (folder.name, set(m["sha256"]) - names)

    out = tmp_path / "stopped"
    proc = start(out, mnist_root)
    wait_for(lambda: list((out / "model" / "checkpoints").glob("step_*.pt")), proc)
    proc.send_signal(signal.SIGINT)
    stopped_at = time.monotonic()
    code, output = finish(proc)
    assert code == 130, output[-3000:]
    assert time.monotonic() - stopped_at < 5, "Ctrl-C took longer than 5 s to stop the pipeline"
    assert "interrupted during stage model" in output
    assert not (out / "model" / "manifest.json").exists() and not (out / "oneshot").exists()
    log = json.loads((out / "pipeline.json").read_text())["stages"]
    assert log["dataset"]["outcome"] == "complete" and log["model"]["outcome"] == "interrupted"
    assert log["concept"] == {"outcome": "not run", "reason": "the pipeline was stopped (Ctrl-C) at model"}

    code, output = finish(start(out, mnist_root))
    assert code == 0, output[-3000:]
    assert "already holds this run (hashes verified): skipped" in output  # the dataset
    assert "resuming the unfinished run" in output  # train, from its checkpoint
    assert normalized(out / "report.md", out) == normalized(straight / "report.md", straight)


@pytest.mark.slow
def test_sigterm_stops_the_pipeline_with_143_and_the_report_says_why(tmp_path, mnist_root):
    out = tmp_path / "out"
    proc = start(out, mnist_root)
    wait_for(lambda: (out / "pipeline.json").exists(), proc)
    proc.send_signal(signal.SIGTERM)
    code, output = finish(proc)
    assert code == 143, output[-3000:]
    log = json.loads((out / "pipeline.json").read_text())["stages"]
    assert {v["outcome"] for v in log.values()} <= {"complete", "interrupted", "not run", "skipped"}
    assert "interrupted" in {v["outcome"] for v in log.values()}
    if (out / "dataset" / "manifest.json").exists():  # a report can be made: it says why the rest is missing
        from sla_cli.report.collect import collect

        stages = collect(out)
        assert (
            "interrupted: SIGTERM during this stage"
            in stages[next(k for k, v in log.items() if v["outcome"] == "interrupted")].reason
        )
        assert stages["concept"].reason.startswith("not run: the pipeline was stopped (SIGTERM)")
