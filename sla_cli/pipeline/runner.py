"""Run a checked plan in this process: each step under a `stage k/n` header with the pipeline's ETA,
a finished one verified and skipped, every outcome logged in OUT/pipeline.json, then the report.

A stage that fails or is refused does not stop the others; the steps that read its folder are not
run (saying why). Ctrl-C or SIGTERM stops the whole pipeline at once: the interrupted stage's
folder is left as that stage leaves it (train: its last checkpoint, resumed by the same command),
finished ones intact, and the exit code is 130 / 143.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from rich.markup import escape

from sla_cli import interrupt, runfolder
from sla_cli.console import console
from sla_cli.errors import USER_ERRORS, ConfigError, SlaError
from sla_cli.pipeline.estimate import StepNeeds
from sla_cli.pipeline.plan import Plan, PlannedStep
from sla_cli.pipeline.preflight import duration
from sla_cli.pipeline.status import StatusLog

PROBLEMS = ("refused", "failed", "interrupted", "incomplete", "not run")


class Eta:
    """The remaining estimates, rescaled by how the finished stages compared with theirs."""

    def __init__(self, est: dict[str, StepNeeds]):
        self.est = est
        self.estimated = self.actual = 0.0

    def done(self, name: str, seconds: float) -> None:
        if self.est[name].seconds > 0:
            self.estimated += self.est[name].seconds
            self.actual += seconds

    def left(self, names: list[str]) -> float:
        ratio = min(max(self.actual / self.estimated, 0.25), 4.0) if self.estimated > 5 else 1.0
        return ratio * sum(self.est[n].seconds for n in names)


def _header(k: int, n: int, planned: PlannedStep, left: float) -> None:
    ends = time.strftime("%H:%M", time.localtime(time.time() + left))
    console.rule(
        f"[bold]stage {k}/{n}: {planned.name}[/] (sla {escape(planned.stage.name)}: "
        f"{escape(planned.step.summary)}) - pipeline: about {duration(left)} left, ends ~{ends}"
    )


def _blocked(planned: PlannedStep, outcomes: dict[str, str]) -> str | None:
    for key, folder in planned.step.inputs.items():
        if folder in outcomes and outcomes[folder] != "complete" and outcomes[folder] != "skipped":
            return f"needs {folder}/ ({key}), which {'was ' if outcomes[folder] != 'failed' else ''}{outcomes[folder]}"
    return None


def _verify(planned: PlannedStep) -> None:
    manifest = runfolder.read_manifest(planned.folder, planned.stage.kind)
    runfolder.verify_files(planned.folder, manifest)


def _run_one(planned: PlannedStep) -> tuple[str, str]:
    """(outcome, reason) of running one step; KeyboardInterrupt (Ctrl-C, SIGTERM) passes through."""
    from sla_cli.hydra_app import _environment_error, _remove_if_empty, run_job

    try:
        run_job(planned.stage, planned.cfg, planned.folder)
    except USER_ERRORS as e:
        _remove_if_empty(planned.folder)
        return ("refused" if isinstance(e, ConfigError) else "failed"), str(e)
    except (MemoryError, OSError, RuntimeError) as e:
        error = _environment_error(e, planned.folder)
        _remove_if_empty(planned.folder)
        if error is None:
            traceback.print_exc()  # a bug: its traceback, and the other stages still run
            return "failed", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} (a bug: traceback above)"
        return "failed", str(error)
    except Exception as e:  # noqa: BLE001  a bug in one stage: reported, the others still run
        _remove_if_empty(planned.folder)
        traceback.print_exc()
        return "failed", f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} (a bug: traceback above)"
    if not (planned.folder / runfolder.MANIFEST).exists():
        return "incomplete", "stopped before the end as asked (stop_after); the same command continues it"
    return "complete", ""


def run(plan: Plan, est: dict[str, StepNeeds], command: str, report: bool, jobs: int = 1) -> int:
    """Run every active step, one at a time or (``jobs`` > 1) up to ``jobs`` at once in their own
    processes (sla_cli/pipeline/parallel.py); returns the exit code (0, 1 when a stage did not
    complete, 130/143)."""
    active = plan.active()
    log = StatusLog(plan.out, command, [p.name for p in plan.steps])
    outcomes: dict[str, str] = {}
    for planned in plan.steps:
        if planned.skipped:
            outcomes[planned.name] = "skipped"
    eta = Eta(est)

    def settle(planned: PlannedStep, outcome: str, reason: str, seconds: float) -> None:
        if outcome == "complete" and planned.state != "done":
            eta.done(planned.name, seconds)
        outcomes[planned.name] = outcome
        log.set(planned.name, outcome, reason, seconds)
        if outcome != "complete":
            print(f"sla pipeline: stage {planned.name} {outcome}: {reason}", file=sys.stderr)

    plan.out.mkdir(parents=True, exist_ok=True)
    lock = runfolder.FolderLock(plan.out).acquire()  # one pipeline per OUT
    running: list[str] = []
    try:
        with interrupt.job("sla pipeline"):
            for planned in plan.steps:
                if planned.skipped:
                    log.set(planned.name, "skipped", planned.skipped)
            if jobs > 1:
                from sla_cli.pipeline import parallel

                parallel.run_all(plan, jobs, settle, lambda planned: _decided(planned, outcomes))
            else:
                for k, planned in enumerate(active, 1):
                    running = [planned.name]
                    _header(k, len(active), planned, eta.left([p.name for p in active[k - 1 :]]))
                    started = time.perf_counter()
                    outcome, reason = _decided(planned, outcomes) or _run_one(planned)
                    settle(planned, outcome, reason, time.perf_counter() - started)
                running = []
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM as interrupt.Interrupted (parallel.Stopped)
        code = getattr(e, "exit_code", 130)
        running = getattr(e, "running", running)
        signal = "SIGTERM" if code == 143 else "Ctrl-C"
        for planned in active:
            if planned.name in outcomes:
                continue
            if planned.name in running:
                log.data["stages"][planned.name] = {
                    "outcome": "interrupted",
                    "reason": f"{signal} during this stage; the same command resumes it",
                }
            else:
                log.data["stages"][planned.name] = {
                    "outcome": "not run",
                    "reason": f"the pipeline was stopped ({signal}) at {', '.join(running) or 'a stage'}",
                }
        log.write()
        where = f"during stage{'s' if len(running) > 1 else ''} {', '.join(running)}" if running else "between stages"
        print(
            f"sla pipeline: interrupted {where}; finished stages are intact, the same command continues",
            file=sys.stderr,
        )
        return code
    finally:
        lock.release()
    if report:
        _report(plan.out, command)
    problems = [f"{n} ({o})" for n, o in outcomes.items() if o in PROBLEMS]
    if problems:
        print(f"sla pipeline: not complete: {', '.join(problems)} (see {plan.out / 'report.md'})", file=sys.stderr)
        return 1
    return 0


def _decided(planned: PlannedStep, outcomes: dict[str, str]) -> tuple[str, str] | None:
    """The outcome of a step that need not run (an input did not complete; or its folder already
    holds this run, verified), or None: run it."""
    blocked = _blocked(planned, outcomes)
    if blocked:
        return "not run", blocked
    if planned.state != "done":
        return None
    try:
        _verify(planned)
    except SlaError as e:
        return "failed", f"{e}; run.overwrite=true runs it again"
    console.print(f"{planned.folder} already holds this run (hashes verified): skipped", soft_wrap=True)
    return "complete", ""


def _report(out: Path, command: str) -> None:
    from sla_cli.report.build import build
    from sla_cli.report.cli import print_stages

    console.rule("[bold]report")
    try:
        path, stages = build(out, command)
    except SlaError as e:
        print(f"sla pipeline: report: error: {e}", file=sys.stderr)
        return
    print_stages(path, stages)
