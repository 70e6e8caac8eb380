"""Run the `sla` CLI in a subprocess from this checkout, and check one-line user errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_sla(
    *args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    """Run `python -m sla_cli ARGS` from this checkout; returns the finished process (text output)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "sla_cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str, code: int | None = None) -> None:
    """A user error: non-zero exit, exactly one line on stderr, no traceback, naming each fragment."""
    assert result.returncode != 0, result.stdout + result.stderr
    if code is not None:
        assert result.returncode == code, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
