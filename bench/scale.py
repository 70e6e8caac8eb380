"""The scale study (issue 22): every claim's measure against model size and training budget, on one dataset.

    PYTHONPATH=. python bench/scale.py --out /work/runs/scale                  # the study, smallest point first
    PYTHONPATH=. python bench/scale.py --out DIR --points 'f32_h128_*'         # a subset (names or patterns)
    PYTHONPATH=. python bench/scale.py --out DIR --table-only                  # table and figures from what finished
    PYTHONPATH=. python bench/scale.py --out DIR --list                        # the grid, planned FLOPs, state
    PYTHONPATH=. python bench/scale.py --out DIR --dry-run                     # the same at the smoke preset (test)
    python bench/scale.py --gpu-check --out DIR --budget-s S --device cuda|cpu [--dry-run]   # make gpu-check's hook

The grid, its datasets and why they are what they are: bench/scale_grid.py. Layout under --out:
  datasets/<name>/                                    sla generate-cubes
  points/<point>/{model,oneshot,oneshot_fonts,concept}/  one run folder per stage (scale_grid.stage_commands)
  logs/<point>/<stage>.log                            each stage's output
  scale.md, scale.json, figures/*.png                 the table (scale_table.py), one figure per claim
Each stage is an ordinary `sla` command run in its own process, one at a time. Rerunning this script
reruns every command: a stage whose folder holds the same complete run verifies it and does nothing, and
`sla train` continues an interrupted run from its last checkpoint, so the study picks up where it stopped.
A stage that fails is reported and the study goes on (stages that need its folder are not started).

--gpu-check (bench/gpu_check.py's hook) runs the largest points whose estimated training time fits in
--budget-s (the smallest point at the smoke preset with --dry-run), stops a stage before the budget ends
(SIGTERM: `sla train` keeps its checkpoint) and writes OUT/points.json.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scale_grid import DRY_RUN, STAGES, STUDY, Point, Study, dataset_command, stage_commands  # noqa: E402

RESERVE_S = 15  # of a --budget-s: for stopping the last stage (TERM_GRACE_S) and writing the table
TERM_GRACE_S = 10  # a stopped stage gets this long to exit (sla: one line, exit 143) before it is killed
POINTS_JSON_KEYS = ("training_flops", "train_seconds", "gflops_per_s", "device")
POINTS_JSON_MEASURES = (
    "cross_over_mean_floor",
    "latent_ratio_digits",
    "builtin.new_instances.ours",
    "fonts.new_instances.ours",
    "concept.spearman",
    "concept.angle_mae_deg",
    "concept.unseen_texture_mae_deg",
)


class Runner:
    """Runs `sla` commands one at a time, each in its own process group with its log; forwards SIGTERM
    and Ctrl-C to the running one (so it leaves a checkpoint) and honours an optional time budget."""

    def __init__(self, budget_s: float | None, env: dict):
        self.env, self.child, self.stopping = env, None, 0
        self.program = [sys.executable, "-m", "sla_cli"]  # what runs `sla` (a test puts a stand-in here)
        self.deadline = None if budget_s is None else time.monotonic() + budget_s - RESERVE_S

    def forward_signals(self) -> None:
        """SIGTERM and Ctrl-C go to the running stage too (it leaves a checkpoint), then this process exits."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._forward)

    def _forward(self, signum, frame) -> None:
        # no wait() here: the interrupted wait() holds Popen's lock; sla() exits once the stage has ended
        self.stopping = signum
        if self.child is None:
            sys.exit(128 + signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.child.pid, signum)

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def _wait(self) -> int | None:
        """The child's exit code, or None when the budget ran out first (it is then stopped: SIGTERM, and
        SIGKILL after TERM_GRACE_S)."""
        try:
            return self.child.wait(timeout=None if self.deadline is None else max(self.left(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(self.child.pid, signal.SIGTERM)
            try:
                self.child.wait(timeout=TERM_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.child.pid, signal.SIGKILL)
                self.child.wait()
            return None

    def sla(self, args: list[str], log: Path, done_marker: Path) -> str:
        """Run `sla ARGS` into ``log``: "done", "already complete" (the stage verified it and did nothing),
        "failed (exit N)" or "stopped at the budget"."""
        if self.left() < 1:
            return "stopped at the budget"
        before = done_marker.stat().st_mtime_ns if done_marker.exists() else None
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(f"\n$ sla {' '.join(args)}\n")
            out.flush()
            self.child = subprocess.Popen(
                [*self.program, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=REPO,
                start_new_session=True,
            )
            code = self._wait()
            self.child = None
        if self.stopping:
            sys.exit(128 + self.stopping)
        if code is None:
            return "stopped at the budget"
        if code:
            return f"failed (exit {code}; see {log})"
        after = done_marker.stat().st_mtime_ns if done_marker.exists() else None
        return "already complete" if before is not None and before == after else "done"


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run_point(runner: Runner, study: Study, root: Path, p: Point, common: list[str], made: set[str]) -> dict:
    """A point's dataset (once per invocation) and stages, in order: {stage: status}."""
    states = {}
    if p.dataset not in made:
        status = _stage(
            runner,
            dataset_command(study, root, p.dataset, common),
            root / "datasets" / p.dataset,
            root / "logs" / "datasets" / f"{p.dataset}.log",
            f"dataset {p.dataset}",
        )
        if status not in ("done", "already complete"):
            return {stage: f"not started: dataset {p.dataset} {status}" for stage in STAGES}
        made.add(p.dataset)
    for stage, args in stage_commands(study, root, p, common).items():
        if stage != "model" and states["model"] not in ("done", "already complete"):
            states[stage] = "not started: no model"
            continue
        states[stage] = _stage(
            runner, args, root / "points" / p.name / stage, root / "logs" / p.name / f"{stage}.log", f"{p.name} {stage}"
        )
    return states


def _stage(runner: Runner, args: list[str], folder: Path, log: Path, what: str) -> str:
    started = time.monotonic()
    say(f"{what}: sla {' '.join(args)}")
    status = runner.sla(args, log, folder / "manifest.json")
    say(f"{what}: {status} ({time.monotonic() - started:.0f} s)")
    return status


def _measured_rate(root: Path, p: Point) -> float | None:
    """FLOP/s of the point's finished training (None when it did not finish)."""
    from bench.scale_table import read_stage, training_figures

    _, read = read_stage(root / "points" / p.name / "model", "model")
    rate = training_figures(*read)["gflops_per_s"] if read else None
    return rate * 1e9 if rate else None


def hold_the_study(root: Path) -> None:
    """One study process per root (the stages lock their own folders, but a second study would train the
    next point beside the first): run folders' lock on ROOT/.sla-lock, held until this process ends."""
    from sla_cli.errors import DataError
    from sla_cli.runfolder import FolderLock

    root.mkdir(parents=True, exist_ok=True)
    try:
        FolderLock(root).acquire()
    except DataError as e:
        sys.exit(f"scale.py: error: {e}")


def select(study: Study, patterns: str | None) -> list[Point]:
    if not patterns:
        return list(study.points)
    names = [p.name for p in study.points]
    chosen = set()
    for pattern in (x.strip() for x in patterns.split(",") if x.strip()):
        hits = fnmatch.filter(names, pattern)
        if not hits:
            sys.exit(f"scale.py: error: --points {pattern!r} matches no point of the grid ({', '.join(names)})")
        chosen.update(hits)
    return [p for p in study.points if p.name in chosen]


def order(study: Study, points: list[Point], gpu_check: bool, dry_run: bool) -> list[Point]:
    """Smallest first; with --gpu-check the largest first (with --dry-run only the smallest)."""
    ranked = study.by_flops(points)
    if gpu_check:
        return ranked[:1] if dry_run else ranked[::-1]
    return ranked


def study_command(a: argparse.Namespace, root: Path) -> str:
    """The command that makes (and, rerun, continues) the whole study at this root."""
    parts = [
        "--out",
        str(root),
        *(["--dry-run"] if a.dry_run else []),
        *([f"--device {a.device}"] if a.device != "cpu" else []),
        *([f"--threads {a.threads}"] if a.threads != 1 else []),
    ]
    return "PYTHONPATH=. python bench/scale.py " + " ".join(parts)


def write_outputs(study: Study, root: Path, command: str, written_by: str, figures: bool) -> list[dict]:
    from bench import scale_table
    from sla_cli.runfolder import write_json, write_text

    rows = [scale_table.point_row(study, root, p) for p in study.by_flops()]
    root.mkdir(parents=True, exist_ok=True)
    write_json(
        root / "scale.json",
        {
            "command": command,
            "written_by": written_by,
            "preset": study.preset,
            "flops_how": scale_table.FLOPS_HOW,
            "paper_preset_training_flops": scale_table.paper_preset_flops(),
            "points": rows,
        },
    )
    write_text(root / "scale.md", scale_table.markdown(rows, study, command, written_by))
    if figures:
        from bench.scale_figures import write_figures

        write_figures(rows, root / "figures")
    return rows


def points_json(rows: list[dict], ran: dict[str, dict]) -> list[dict]:
    """The hook's summary: one compact object per point this run attempted."""
    out = []
    for r in (r for r in rows if r["name"] in ran):
        entry = {"name": r["name"], "stages": ran[r["name"]], **{k: r[k] for k in POINTS_JSON_KEYS if k in r}}
        entry.update({k: r["measures"][k] for k in POINTS_JSON_MEASURES if k in r["measures"]})
        out.append(entry)
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="the study's root (datasets/, points/, the table)")
    p.add_argument("--points", help="comma-separated point names or shell patterns (default: every point)")
    p.add_argument("--dry-run", action="store_true", help="the smoke-preset grid (scale_grid.DRY_RUN)")
    p.add_argument("--table-only", action="store_true", help="run nothing: the table and figures from what finished")
    p.add_argument("--list", action="store_true", help="run nothing: print the grid, planned FLOPs and states")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads per stage (1 on a shared machine)")
    p.add_argument("--data-root", default=os.environ.get("SLA_DATA_ROOT"), help="MNIST (default $SLA_DATA_ROOT)")
    p.add_argument("--gpu-check", action="store_true", help="make gpu-check's hook: largest points, OUT/points.json")
    p.add_argument("--budget-s", type=float, help="stop starting and stop stages after this many seconds")
    a = p.parse_args(argv)
    if a.budget_s is not None and a.budget_s <= RESERVE_S:
        p.error(f"--budget-s must be above {RESERVE_S} (the time kept for the table)")
    if not (a.table_only or a.list) and not a.data_root:
        p.error("MNIST: set SLA_DATA_ROOT or --data-root DIR (the folder holding MNIST/raw)")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse(argv)
    study = DRY_RUN if a.dry_run else STUDY
    root, points = a.out.resolve(), select(study, a.points)
    written_by = "PYTHONPATH=. python bench/scale.py " + " ".join(sys.argv[1:] if argv is None else argv)
    command = study_command(a, root)
    if a.list:
        for p in study.by_flops(points):
            done = all((root / "points" / p.name / s / "manifest.json").exists() for s in STAGES)
            print(f"{p.name:24s} {study.flops(p) / 1e12:10.2f} TFLOP  {'complete' if done else ''}")
        return 0
    ran: dict[str, dict] = {}
    if not a.table_only:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(":"),
            "PYTHONUNBUFFERED": "1",
        }
        common = [f"run.device={a.device}", f"run.threads={a.threads}", f"run.data_root={Path(a.data_root).resolve()}"]
        runner, made, rate = Runner(a.budget_s, env), set(), None
        hold_the_study(root)
        runner.forward_signals()
        for p in order(study, points, a.gpu_check, a.dry_run):
            if rate and study.flops(p) / rate > runner.left():  # --gpu-check: a point that would not fit
                say(
                    f"{p.name}: skipped, about {study.flops(p) / rate:.0f} s at {rate / 1e12:.1f} TFLOP/s; "
                    f"{runner.left():.0f} s left"
                )
                continue
            if runner.left() < 1:
                break
            ran[p.name] = run_point(runner, study, root, p, common, made)
            if a.gpu_check:
                rate = _measured_rate(root, p) or rate
    rows = write_outputs(study, root, command, written_by, figures=not a.gpu_check)
    if a.gpu_check:
        from sla_cli.runfolder import write_json

        write_json(root / "points.json", points_json(rows, ran))
    say(f"wrote {root / 'scale.md'} ({sum(r['complete'] for r in rows)} of {len(rows)} points complete)")
    failed = sorted({f"{name} {stage}" for name, states in ran.items() for stage, s in states.items() if "failed" in s})
    if failed:
        print(f"scale.py: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
