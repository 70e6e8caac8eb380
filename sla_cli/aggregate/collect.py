"""The run folders of a sweep: which completed, their configs, and their metrics as flat numbers.

A `-m` sweep writes one folder per job under SWEEP_DIR (conf/common.yaml: hydra.sweep.subdir is the
job number). A folder with manifest.json is complete; any other job folder is listed as incomplete
and never averaged. A complete folder that does not hold up (a manifest of the wrong shape, a file
that fails its sha256 or leads out of the folder, metrics that are not a JSON object) is corrupt or
hand-edited: the whole aggregate is refused in one line, naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.pipeline.registry import STAGES, STEP_BY_FOLDER
from sla_cli.pipeline.status import FILE as PIPELINE_LOG
from sla_cli.tracking import FOLDER as TRACKING_FOLDER
from sla_cli.values import is_number

# Each kind's numbers; another kind's are those of every JSON file its manifest lists.
METRIC_FILES = {s.kind: s.numbers for s in STAGES if s.numbers}
# Parts of a metrics file that are not this run's measurements (spreads, per-seed copies, the paper's
# numbers, settings) and counters that are not measurements either.
SKIP_PARTS = {"std", "per_seed", "paper", "arch", "config", "seeds", "seed"}
SKIP_LEAVES = {"world_size", "steps", "n_train", "n_val", "n_test"}


@dataclass
class RunFolder:
    path: Path
    complete: bool
    reason: str = ""  # why an incomplete folder is incomplete
    kind: str = ""
    config: dict = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


def find_runs(sweep_dir: Path) -> list[RunFolder]:
    """Every job folder under ``sweep_dir`` (hidden ones such as .submitit skipped), in name order."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise DataError(
            f"{sweep_dir} does not exist or is not a folder (expected the run.out=DIR of an `sla ... -m` sweep)"
        )
    refuse_non_sweep(sweep_dir)
    runs = [read_run(p) for p in _job_folders(sweep_dir)]
    if not runs:
        raise DataError(f"{sweep_dir} holds no run folders (expected one folder per job of an `sla ... -m` sweep)")
    return runs


def refuse_non_sweep(folder: Path) -> None:
    """One run folder, or a pipeline's run root (stages of different kinds, not repeats), is no sweep."""
    if (folder / runfolder.MANIFEST).exists() or (folder / runfolder.CONFIG).exists():
        raise DataError(
            f"{folder} is one run folder, not a sweep: give the run.out=DIR of an `sla <command> -m ...` "
            f"sweep (whose run folders are SWEEP_DIR/0, SWEEP_DIR/1, ...); "
            f"`sla verify {folder}` checks one run"
        )
    stages = [p.name for p in folder.iterdir() if p.is_dir() and p.name in STEP_BY_FOLDER]
    if (folder / PIPELINE_LOG).exists() or len(stages) >= 2:
        raise DataError(
            f"{folder} is a pipeline's run root ({', '.join(sorted(stages)[:3])}...: one run of each "
            f"stage), not a sweep; `sla report {folder}` summarizes it, `sla aggregate` averages the "
            "repeats of a `-m` sweep"
        )


def _job_folders(folder: Path) -> list[Path]:
    found = []
    for p in sorted(folder.iterdir(), key=_natural):
        if not p.is_dir() or p.name.startswith(".") or p.name == TRACKING_FOLDER:
            continue
        is_run = (p / runfolder.MANIFEST).exists() or (p / runfolder.CONFIG).exists()
        subdirs = [q for q in p.iterdir() if q.is_dir() and not q.name.startswith(".")]
        found += [p] if is_run or not subdirs else _job_folders(p)  # nested sweeps (subdir with a /)
    return found


def _natural(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name)


def read_run(path: Path) -> RunFolder:
    manifest_path = path / runfolder.MANIFEST
    if not manifest_path.exists():
        why = (
            "no manifest.json: its job died, was stopped or is still running"
            if (path / runfolder.CONFIG).exists()
            else "empty: its job never started its stage"
        )
        return RunFolder(path, complete=False, reason=why)
    manifest = runfolder.load_manifest(manifest_path)  # its shape checked: a DataError line otherwise
    kind = manifest["kind"]
    names = [METRIC_FILES[kind]] if kind in METRIC_FILES else [n for n in manifest["sha256"] if n.endswith(".json")]
    metrics: dict[str, float] = {}
    for name in names:  # hash, place and shape checked
        metrics.update(
            flatten_numbers(
                runfolder.read_json_object(path, manifest, name), "" if len(names) == 1 else f"{name[:-5]}."
            )
        )
    return RunFolder(path, complete=True, kind=kind, config=manifest["config"], metrics=metrics)


def flatten_numbers(obj, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of nested dicts as {"a.b.c": value}; lists, strings, booleans and SKIP_* dropped."""
    out: dict[str, float] = {}
    if not isinstance(obj, dict):
        return out
    for key, v in obj.items():
        if key in SKIP_PARTS:
            continue
        if isinstance(v, dict):
            out.update(flatten_numbers(v, f"{prefix}{key}."))
        elif is_number(v) and key not in SKIP_LEAVES:
            out[f"{prefix}{key}"] = float(v)
    return out


def config_value(config: dict, dotted: str):
    """``config["a"]["b"]`` for "a.b"; None when the key is absent."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
