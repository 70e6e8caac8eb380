"""``OUT/pipeline.json``: what `sla pipeline` did with each stage and why, for `sla report` to say why
a stage is missing (refused, failed, interrupted, not run) with its one-line reason.

It is a log of the last pipeline run into OUT, not a run folder: nothing trusts it for numbers, and
a stage folder that is complete speaks for itself whatever the log says. Written atomically after
every stage, so a killed pipeline leaves the last state it reached.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

FILE = "pipeline.json"
OUTCOMES = ("complete", "skipped", "refused", "failed", "interrupted", "incomplete", "not run")


class StatusLog:
    def __init__(self, out: Path, command: str, folders: list[str]):
        self.path = Path(out) / FILE
        self.data = {
            "command": command,
            "started": _now(),
            "updated": _now(),
            "stages": {f: {"outcome": "not run", "reason": "the pipeline has not reached it"} for f in folders},
        }

    def set(self, folder: str, outcome: str, reason: str = "", seconds: float | None = None) -> None:
        assert outcome in OUTCOMES, outcome
        entry = {"outcome": outcome, "reason": reason}
        if seconds is not None:
            entry["seconds"] = round(seconds, 1)
        self.data["stages"][folder] = entry
        self.write()

    def write(self) -> None:
        from sla_cli.runfolder import write_json

        self.data["updated"] = _now()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.path, self.data)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def read(out: Path) -> dict[str, dict]:
    """{folder: {"outcome", "reason", ...}} of the last pipeline run into ``out``; {} when there is
    no readable log (a hand-made run root, a corrupt file: the report then says only what it sees)."""
    try:
        data = json.loads((Path(out) / FILE).read_text())
        stages = data["stages"]
        return {
            k: v
            for k, v in stages.items()
            if isinstance(v, dict) and v.get("outcome") in OUTCOMES and isinstance(v.get("reason", ""), str)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
