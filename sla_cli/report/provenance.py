"""Per stage: device, wall time, preset, seed, config identity; and how the report was made."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from pathlib import Path

from sla_cli import runfolder
from sla_cli.report.collect import RunFolder, Stage
from sla_cli.report.markdown import code, escape, table

REPO = Path(__file__).resolve().parents[2]


def device(run: RunFolder) -> str:
    """As the stage recorded it (manifest, else its metrics); never guessed from run.device=auto."""
    found = run.manifest.get("device") or (run.data or {}).get("device")
    if found:
        return escape(found)
    config = run.manifest["config"]
    said = (config.get("run") or {}).get("device", config.get("device", "?"))  # a folder made before run: had device
    return f"not recorded (run.device={escape(str(said))})"


def wall_time(run: RunFolder) -> str:
    """The manifest's own wall time when the stage records one; else derived from file times
    (config.yaml is written when the run starts, the manifest's `created` when it ends), said so."""
    if isinstance(run.manifest.get("wall_seconds"), (int, float)):
        return f"{run.manifest['wall_seconds']:.1f} s"
    if isinstance(run.manifest.get("seconds"), (int, float)):  # a stage's own timer, not process start to end
        return f"{run.manifest['seconds']:.1f} s (the stage's timer)"
    try:
        start = (run.folder / runfolder.CONFIG).stat().st_mtime
        end = datetime.strptime(run.manifest["created"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except (OSError, KeyError, TypeError, ValueError):
        return "not recorded"
    if end < start - 1:  # the folder was copied: its file times say nothing
        return "not recorded"
    text = f"≈ {max(end - start, 0):.0f} s (file times)"
    loop = (run.data or {}).get("train_seconds")
    if isinstance(loop, (int, float)):
        text += f"; training loop {loop:.1f} s"
    return text


def seeds(stage: Stage) -> str:
    found: list = []
    for run in stage.runs:
        seeds = run.manifest.get("seeds")
        found += seeds if isinstance(seeds, list) else [run.manifest.get("seed")]
    return escape(", ".join(str(s) for s in found))


def _joined(stage: Stage, fn) -> str:
    return "; ".join(dict.fromkeys(fn(r) for r in stage.runs))  # distinct, in order


def rows(stages: dict[str, Stage]) -> list[list[str]]:
    out = []
    for name, s in stages.items():
        command = f"sla {s.spec.command}"
        if not s.complete:
            out.append([f"{escape(name)}/", command, f"**{s.status}**: {escape(s.reason)}", "", "", "", "", "", ""])
            continue
        out.append(
            [
                f"{escape(name)}/",  # density/<folder>: a name from the file system
                command,
                "complete" + (f" ({len(s.runs)} runs)" if len(s.runs) > 1 else ""),
                _joined(s, device),
                _joined(s, wall_time),
                _joined(s, lambda r: escape(r.manifest.get("config", {}).get("preset", "?"))),
                seeds(s),
                _joined(s, lambda r: code(str(r.manifest.get("identity", "?")))),
                _joined(s, lambda r: escape(r.manifest.get("created", "?"))),
            ]
        )
    return out


def section(stages: dict[str, Stage]) -> list[str]:
    return [
        "## The runs",
        "",
        "Config identity: the hash of the run's resolved config less the keys that say how it was run (where it "
        "went, the hardware, resume and checkpoint settings, where MNIST lies: `sla_cli/runfolder/experiment.py`) "
        "(`manifest.json`'s `identity`; `config.yaml` beside it holds the config).",
        "",
        *table(
            ["stage", "command", "status", "device", "wall time", "preset", "seed", "config identity", "finished"],
            rows(stages),
        ),
        "",
    ]


def git_commit(repo: Path = REPO) -> str:
    """The commit of the code that wrote this report, marked when the checkout has changes; else unknown."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def how_made(root: Path, made_by: str | None) -> list[str]:
    pipeline = code(made_by) if made_by else "not given (`sla report --made-by` records it)"
    return [
        "## How this was made",
        "",
        f"- runs made by: {pipeline}",
        f"- this report: {code(f'sla report {root}')} (rebuilds it from the run folders' JSON at any time)",
        f"- code commit: {git_commit()}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        "",
    ]
