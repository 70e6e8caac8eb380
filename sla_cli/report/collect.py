"""Find the pipeline's stage folders under a run root and read what each holds, without trusting any of it.

The stages are `sla pipeline`'s, from the stage registry (``sla_cli.pipeline.registry``): each
folder, its kind and its numbers file. A stage is *complete* only when its folder (or every run of a
seed sweep inside it) has a manifest.json of the right kind and its numbers file matches the
manifest's sha256. Anything else is missing, incomplete or invalid, with the reason, and gives no
numbers; where `sla pipeline` logged why (RUN_ROOT/pipeline.json: refused, failed, interrupted, not
run), the reason says so first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.pipeline import status as pipeline_status
from sla_cli.pipeline.registry import PIPELINE


@dataclass(frozen=True)
class StageSpec:
    folder: str  # RUN_ROOT/<folder>
    kind: str  # the manifest's kind
    command: str  # the sla subcommand that writes it
    data: str | None  # the JSON file holding its numbers
    reported: bool = True  # False: listed only where its folder exists or a pipeline logged a problem


STAGES = tuple(
    StageSpec(step.folder, step.stage.kind, step.stage.name, step.stage.numbers, step.reported) for step in PIPELINE
)
BY_FOLDER = {s.folder: s for s in STAGES}


@dataclass
class RunFolder:
    folder: Path
    manifest: dict
    data: dict | None  # the stage's JSON, checked against the manifest


@dataclass
class Stage:
    spec: StageSpec
    folder: Path
    status: str  # complete | missing | incomplete | invalid
    reason: str = ""
    runs: list[RunFolder] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    def records(self) -> list[dict]:
        """One numbers dict per seed: classify's own seeds (per_seed), else one per run folder."""
        out: list[dict] = []
        for run in self.runs:
            data = run.data or {}
            out += data["per_seed"] if isinstance(data.get("per_seed"), list) else [data]
        return out


def _read_run(folder: Path, spec: StageSpec) -> RunFolder:
    manifest = runfolder.read_manifest(folder, spec.kind)
    data = None
    if spec.data is not None:
        data = runfolder.read_json_object(folder, manifest, spec.data)  # hash, place and shape checked
        if not all(isinstance(r, dict) for r in data.get("per_seed") or []):
            raise DataError(f"{folder / spec.data}: `per_seed` holds something other than one object per seed")
    return RunFolder(folder, manifest, data)


def _experiment(manifest: dict) -> dict:
    """Runs differing only in the seed and how-to-run keys are repeats of one experiment, averaged."""
    return runfolder.experiment(manifest["config"], less_seed=True)


def collect_stage(root: Path, spec: StageSpec) -> Stage:
    folder = root / spec.folder
    if not folder.is_dir():
        return Stage(spec, folder, "missing", f"no folder {spec.folder}/")
    if (folder / runfolder.MANIFEST).exists():
        run_folders = [folder]
    else:  # a `-m seed=0,1,2` sweep writes numbered run folders inside
        run_folders = sorted(p for p in folder.iterdir() if p.is_dir() and (p / runfolder.CONFIG).exists())
        if not run_folders:
            return Stage(spec, folder, "incomplete", "no manifest.json: its run died or is still running")
    runs = []
    for f in run_folders:
        if not (f / runfolder.MANIFEST).exists():
            return Stage(
                spec,
                folder,
                "incomplete",
                f"{f.relative_to(root)} has no manifest.json: its run died or is still running",
            )
        try:
            runs.append(_read_run(f, spec))
        except DataError as e:
            return Stage(spec, folder, "invalid", str(e))
    if any(_experiment(r.manifest) != _experiment(runs[0].manifest) for r in runs):
        return Stage(spec, folder, "invalid", "its runs differ in more than the seed; not averaged")
    return Stage(spec, folder, "complete", runs=runs)


def collect(root: Path) -> dict[str, Stage]:
    """Every stage's state under ``root``; a one-line DataError when ``root`` holds no run at all."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} does not exist or is not a folder (expected a run root such as outputs/demo)")
    logged = pipeline_status.read(root)
    problems = {k for k, v in logged.items() if v["outcome"] not in ("complete", "skipped")}
    shown = [s for s in STAGES if s.reported or (root / s.folder).exists() or s.folder in problems]
    stages = {s.folder: collect_stage(root, s) for s in shown}
    for name, stage in stages.items():
        entry = logged.get(name)
        if not stage.complete and entry and entry["outcome"] != "complete":
            why = f"{entry['outcome']}: {entry['reason']}" if entry["reason"] else entry["outcome"]
            stage.reason = f"{why} (sla pipeline); {stage.reason}"
    if all(s.status == "missing" for s in stages.values()):
        names = ", ".join(f"{s.folder}/" for s in STAGES)
        raise DataError(
            f"{root} holds no sla run (none of {names}); give the OUT folder of `make demo` or `make reproduce-paper`"
        )
    return stages
