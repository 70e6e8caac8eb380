"""``pipeline.jobs=N`` (N > 1): up to N stages at once, each as its own ``sla <command>`` process.

Why: one stage at a time, `make demo` used 1.08 of 2 idle cores on average (18 min 44 s); the stages
that do not read each other (classify and the four trainings) can run side by side (13 min 04 s, the
same report; docs/benchmarks.md). Each child left at torch's default threads gets its share of the
cores (``threads_each``).

Why processes, not threads or fork: each stage sets torch's thread count and its own signal handling,
and a fork after torch has started its thread pool can hang the child. A child runs exactly what
`sla <command> preset=P ...` runs by hand (``PlannedStep.command``), so its config, checks, resume and
one-line errors are the stage's own. Its console output goes to OUT/logs/<stage>.log; the console gets
a line when a stage starts and ends, and every HEARTBEAT_S the last line of each running stage's log.

A step starts once every folder it reads is complete (in plan order among those ready); a step whose
input did not complete is not run, as in one-at-a-time mode. Ctrl-C or SIGTERM reaches this process
(the children run in their own sessions, so a terminal's Ctrl-C is not delivered twice); it is passed
on once to each running child, which stops as `sla <command>` stops (train keeps its last checkpoint),
and the same command resumes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape

from sla_cli import runfolder
from sla_cli.console import console
from sla_cli.pipeline.plan import Plan, PlannedStep
from sla_cli.pipeline.preflight import duration

LOGS = "logs"  # OUT/logs/<stage>.log: each child's console output
HEARTBEAT_S = 60.0
POLL_S = 0.2
STOP_WAIT_S = 120.0  # how long a stopped child may take to write its checkpoint and exit


@dataclass
class Child:
    planned: PlannedStep
    proc: subprocess.Popen
    log: Path
    started: float


def makespan(steps: list[PlannedStep], seconds: dict[str, float], jobs: int) -> float:
    """The wall time of running ``steps`` (plan order, each after the folders it reads) on ``jobs``
    workers, given each step's seconds: what this module's scheduler does, simulated."""
    names = {p.name for p in steps}
    done_at: dict[str, float] = {}
    free = [0.0] * max(1, jobs)
    pending = list(steps)
    while pending:
        ready_at = {
            p.name: max([done_at.get(f, 0.0) for f in p.step.inputs.values() if f in names], default=0.0)
            for p in pending
            if all(f in done_at or f not in names for f in p.step.inputs.values())
        }
        worker = min(range(len(free)), key=free.__getitem__)
        # as run_all starts them: the first ready step in plan order, or the next to become ready
        ready_now = [p for p in pending if p.name in ready_at and ready_at[p.name] <= free[worker]]
        planned = (
            ready_now[0]
            if ready_now
            else min((p for p in pending if p.name in ready_at), key=lambda p: ready_at[p.name])
        )
        start = max(free[worker], ready_at[planned.name])
        done_at[planned.name] = free[worker] = start + seconds.get(planned.name, 0.0)
        pending.remove(planned)
    return max(done_at.values(), default=0.0)


def _waits_for(planned: PlannedStep, unfinished: set[str]) -> bool:
    return any(folder in unfinished for folder in planned.step.inputs.values())


def threads_each(planned: PlannedStep, jobs: int) -> list[str]:
    """A step left at torch's default thread count (run.threads=0: every core) gets its share of the
    cores: N processes each spinning OpenMP threads on every core ran 10x slower here (the demo's
    train: 2.6 against 23 steps/s). A key of the run block, so the run's identity is unchanged."""
    if int(planned.cfg.run.threads) > 0:
        return []
    return [f"run.threads={max(1, (os.cpu_count() or 1) // jobs)}"]


def _start(planned: PlannedStep, plan: Plan, jobs: int) -> Child:
    log = plan.out / LOGS / f"{planned.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [*planned.command(plan.preset), *threads_each(planned, jobs)]
    # appended: a resumed stage's log follows the interrupted one's; the child keeps its own copy of the
    # file descriptor, so this process closes its own at once
    with open(log, "ab") as handle:
        handle.write(f"\n$ sla {' '.join(args)}\n".encode())
        handle.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sla_cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the pipeline only; it passes it on once
            env={**os.environ, "COLUMNS": "100"},
        )
    console.print(
        f"[dim]{time.strftime('%H:%M:%S')}[/] [bold]{planned.name}[/] started (sla {escape(planned.stage.name)}: "
        f"{escape(planned.step.summary)}); its output: {log}",
        soft_wrap=True,
    )
    return Child(planned, proc, log, time.perf_counter())


def last_line(log: Path, size: int = 4096) -> str:
    """The last non-empty line of a child's log (a progress line, or its one-line error)."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - size))
            lines = f.read().decode(errors="replace").replace("\r", "\n").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if line.strip()), "")


def outcome_of(child: Child) -> tuple[str, str]:
    """(outcome, reason) from a finished child's exit code, its folder and its log's last line."""
    code, name = child.proc.returncode, child.planned.stage.name
    reason = last_line(child.log)
    for prefix in (f"sla {name}: error: ", f"sla {name}: "):
        reason = reason.removeprefix(prefix)
    if code == 0:
        if (child.planned.folder / runfolder.MANIFEST).exists():
            return "complete", ""
        return "incomplete", "stopped before the end as asked (stop_after); the same command continues it"
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        how = "SIGTERM" if code == 128 + signal.SIGTERM else "Ctrl-C"  # as the one-at-a-time runner says it
        return "interrupted", f"{how} during this stage; the same command resumes it"
    outcome = "refused" if code == 2 else "failed"
    return outcome, f"{reason} (exit {code}; {child.log})"


class Stopped(KeyboardInterrupt):
    """The pipeline was stopped while ``running`` stages ran; ``exit_code`` as interrupt.Interrupted."""

    def __init__(self, exit_code: int, running: list[str]):
        super().__init__(running)
        self.exit_code, self.running = exit_code, running


def run_all(plan: Plan, jobs: int, settle, begin) -> None:
    """Run the active steps, up to ``jobs`` at once. ``begin(planned)`` decides a step before it would
    start: an outcome (done and verified, or not run because an input failed) or None to run it;
    ``settle(planned, outcome, reason, seconds)`` records each end. Raises Stopped on Ctrl-C / SIGTERM
    once the running children have stopped."""
    pending = list(plan.active())
    unfinished = {p.name for p in pending}
    running: list[Child] = []
    beat = time.perf_counter()
    try:
        while pending or running:
            for planned in list(pending):
                if len(running) >= jobs:
                    break
                if _waits_for(planned, unfinished):
                    continue
                pending.remove(planned)
                decided = begin(planned)
                if decided is not None:
                    settle(planned, *decided, 0.0)
                    unfinished.discard(planned.name)
                    continue
                try:
                    running.append(_start(planned, plan, jobs))
                except OSError as e:  # its log cannot be written (a full disk...), or no process starts
                    settle(planned, "failed", f"could not start it: {e}", 0.0)
                    unfinished.discard(planned.name)
            time.sleep(POLL_S)
            for child in [c for c in running if c.proc.poll() is not None]:
                running.remove(child)
                outcome, reason = outcome_of(child)
                seconds = time.perf_counter() - child.started
                console.print(
                    f"[dim]{time.strftime('%H:%M:%S')}[/] [bold]{child.planned.name}[/] {outcome} in "
                    f"{duration(seconds)}" + (f": {escape(reason)}" if reason else ""),
                    soft_wrap=True,
                )
                settle(child.planned, outcome, reason, seconds)
                unfinished.discard(child.planned.name)
            if running and time.perf_counter() - beat > HEARTBEAT_S:
                beat = time.perf_counter()
                for child in running:
                    console.print(f"  {child.planned.name}: {escape(last_line(child.log)[:120])}", soft_wrap=True)
    except KeyboardInterrupt as e:
        code = getattr(e, "exit_code", 130)
        _stop(running, code, settle)
        raise Stopped(code, [c.planned.name for c in running]) from None
    except Exception:  # a fault here (a log that cannot be opened...): no child is left running on its own
        _stop(running, 128 + signal.SIGTERM, settle)
        raise


def _stop(running: list[Child], code: int, settle) -> None:
    """Pass the signal on once to each running child, wait for them, and record how each ended."""
    for child in running:
        if child.proc.poll() is None:
            child.proc.send_signal(code - 128)
    deadline = time.monotonic() + STOP_WAIT_S
    for child in running:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.proc.kill()
            child.proc.wait()
        outcome, reason = outcome_of(child)
        if outcome == "failed":  # killed after STOP_WAIT_S, or a stage that did not take the signal well
            outcome = "interrupted"
        settle(child.planned, outcome, reason, time.perf_counter() - child.started)
