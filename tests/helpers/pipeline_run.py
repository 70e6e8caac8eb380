"""`sla pipeline` at the smoke preset as a subprocess, for the end-to-end pipeline tests: start it, wait
for a state, finish it, and compare two reports less what differs between two runs of one experiment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from helpers.cli import REPO

# classify has its own tests; shorter training than the smoke preset's (every train stage, the concept's
# second level): this checks the pipeline's control, not what the stages learn
ARGS = [
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "pipeline.skip=[classify]",
    "train.steps=120",
    "run.checkpoint_every=40",
    "concept.steps=60",
]


def start(out: Path, mnist_root: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLA_DATA_ROOT": str(mnist_root)}
    return subprocess.Popen(
        [sys.executable, "-m", "sla_cli", "pipeline", *ARGS, f"run.out={out}", *extra],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: int = 1200) -> tuple[int, str]:
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output


def wait_for(condition, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, finish(proc)[1][-3000:]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def normalized(report: Path, out: Path) -> str:
    """report.md less what differs between two runs of one experiment: paths, wall times, identities
    (they hash the input folders' paths), dates and the code commit."""
    text = report.read_text().replace(str(out), "OUT")
    text = re.sub(r"\b\d+(\.\d+)? s\b", "T s", text)
    text = re.sub(r"`[0-9a-f]{16}`", "`ID`", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d( ?[+-]\d{4})?", "DATE", text)
    return "\n".join(line for line in text.splitlines() if not line.startswith("- code commit"))
