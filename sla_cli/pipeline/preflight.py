"""The pre-flight: before the first byte is written, what every step needs against what this machine
has (disk under OUT, memory on the device, time), as one table, and a decision.

A plan that cannot fit is one line with the way out (exit 2, nothing written). A plan that fits but
would run for many hours on a CPU (the paper preset) is a warning with its estimate, then a question
on a terminal; without one, ``pipeline.confirm=false`` says yes (scripts, CI).
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from rich.table import Table

from sla_cli import memory
from sla_cli.console import console
from sla_cli.errors import ConfigError
from sla_cli.pipeline.estimate import Probe, StepNeeds, needs
from sla_cli.pipeline.plan import Plan

DISK_MARGIN = 1.05  # npy headers, figures, temporaries of atomic writes
LONG_ON_CPU_S = 2 * 3600  # beyond this a CPU plan asks first
SMALLER = {"paper": "demo", "demo": "smoke"}


@dataclass
class Machine:
    """What this machine offers the plan; tests give a simulated one."""

    device: object  # torch.device
    memory: int | None  # bytes free on the device (RAM on a CPU)
    disk: int | None  # bytes free under OUT

    @classmethod
    def here(cls, device, out: Path) -> Machine:
        return cls(device, memory.available(device), free_disk(out))


def free_disk(out: Path) -> int | None:
    probe = Path(out).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def wall_seconds(plan: Plan, est: dict[str, StepNeeds], jobs: int) -> float:
    """The plan's estimated wall time: the sum of its stages, or with ``jobs`` > 1 the schedule's length."""
    if jobs == 1:
        return sum(n.seconds for n in est.values())
    from sla_cli.pipeline.parallel import makespan

    return makespan(plan.active(), {k: n.seconds for k, n in est.items()}, jobs)


def peak_memory(est: dict[str, StepNeeds], jobs: int) -> int:
    """The largest stage's memory; with ``jobs`` > 1 the ``jobs`` largest together (an upper bound)."""
    return sum(sorted((sum(n.memory.values()) for n in est.values()), reverse=True)[:jobs])


def _device_text(device) -> str:
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(device)})"
    import os

    import torch

    return f"cpu ({torch.get_num_threads()} threads, {os.cpu_count()} cores; no GPU in use)"


def table(plan: Plan, est: dict[str, StepNeeds], machine: Machine, probe: Probe, jobs: int = 1) -> Table:
    t = Table(title=f"sla pipeline: pre-flight for preset={plan.preset}, run.out={plan.out}", title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("stage", "left"),
        ("state", "left"),
        ("memory", "right"),
        ("disk", "right"),
        ("time", "right"),
    ):
        t.add_column(name, justify=justify, overflow="fold")
    active, notes = plan.active(), []
    for planned in plan.steps:
        if planned.skipped:
            t.add_row("", planned.name, "[dim]skipped", "", "", "")
            notes.append(f"{planned.name}: skipped ({planned.skipped})")
            continue
        n = est[planned.name]
        if planned.note:
            notes.append(f"{planned.name}: {planned.state}, {planned.note}")
        mem = memory.size(sum(n.memory.values())) if n.memory else "-"
        t.add_row(
            f"{active.index(planned) + 1}/{len(active)}",
            planned.name,
            planned.state,
            mem,
            memory.size(n.disk) if n.disk else "-",
            duration(n.seconds) if n.seconds else "-",
        )
    total_disk = sum(n.disk for n in est.values()) * DISK_MARGIN
    peak, total_time = peak_memory(est, jobs), wall_seconds(plan, est, jobs)
    at_once = f" (up to {jobs} stages at once, pipeline.jobs={jobs})" if jobs > 1 else ""
    where = "free on the GPU" if getattr(machine.device, "type", "") == "cuda" else "of RAM available"
    t.caption = "\n".join(
        [
            *notes,
            f"device: {_device_text(machine.device)}",
            f"disk: {memory.size(total_disk)} to write, {_maybe(machine.disk)} free under {plan.out}",
            f"memory: peak {memory.size(peak)}{at_once}, {_maybe(machine.memory)} {where}",
            f"time: about {duration(total_time)}{at_once} (steps timed now on this device, scaled by a reference "
            f"machine's stage timings: about 2x either way, more on a busy CPU; {probe.spent:.1f} s of timing)",
        ]
    )
    t.caption_justify = "left"
    return t


def _maybe(n: int | None) -> str:
    return "?" if n is None else memory.size(n)


def check_fits(plan: Plan, est: dict[str, StepNeeds], machine: Machine, jobs: int = 1) -> None:
    """A plan the machine cannot hold: one ConfigError line with the way out."""
    total_disk = sum(n.disk for n in est.values()) * DISK_MARGIN
    if machine.disk is not None and total_disk > machine.disk:
        raise ConfigError(
            f"the plan writes about {memory.size(total_disk)} under {plan.out} but only "
            f"{memory.size(machine.disk)} is free there; free space, choose run.out=DIR on a larger disk"
            + (f", or use preset={SMALLER[plan.preset]}" if plan.preset in SMALLER else "")
        )
    if machine.memory is None:
        return
    for planned in plan.active():
        parts = est[planned.name].memory
        if parts and sum(parts.values()) > machine.memory:
            way_out = _memory_way_out(plan, planned, parts, machine)
            raise ConfigError(
                f"stage {planned.name}: "
                + memory.refusal(planned.stage.name, parts, machine.memory, machine.device).replace(
                    "; lower that setting or use a smaller preset", f"; {way_out}"
                )
            )
    if jobs > 1 and (together := peak_memory(est, jobs)) > machine.memory:
        raise ConfigError(
            f"up to {jobs} stages at once would need about {memory.size(together)} but "
            f"{memory.size(machine.memory)} is available; pass pipeline.jobs=1 (one stage at a time)"
        )


def _memory_way_out(plan: Plan, planned, parts: memory.Parts, machine: Machine) -> str:
    part = max(parts, key=parts.get)
    ways = []
    if "train.device_data_mb" in part:
        ways.append("pass train.device_data_mb=auto (train then reads batches memory-mapped)")
    else:
        ways.append("lower that setting")
    if getattr(machine.device, "type", "cpu") != "cuda":
        ways.append("run on a GPU with more memory (run.device=cuda)")
    if plan.preset in SMALLER:
        ways.append(f"use a smaller preset (preset={SMALLER[plan.preset]})")
    return ", ".join(ways[:-1]) + f" or {ways[-1]}" if len(ways) > 1 else ways[0]


def check_sources(plan: Plan) -> None:
    """MNIST, where a step still to run reads it (``data.source=mnist`` without ``run.download``):
    missing, the reader's own one line (it names the folder and points at run.download=true), now
    rather than once the pipeline has started and its first stage has failed."""
    from data_gen import mnist

    for planned in plan.active():
        run, source = planned.cfg.run, OmegaConf.select(planned.cfg, "data.source", default="mnist")
        if planned.state == "done" or source != "mnist" or run.download:
            continue
        root = Path(str(run.data_root))
        for split in mnist.COUNTS:
            if any(mnist.find_file(root, mnist.FILES[(split, kind)]) is None for kind in ("images", "labels")):
                mnist.load_split(root, split)  # raises InputDataError: the message every stage gives


def confirm_long_run(
    plan: Plan, est: dict[str, StepNeeds], machine: Machine, confirm: bool, ask: bool = True, jobs: int = 1
) -> None:
    """The paper preset (or any plan over LONG_ON_CPU_S) on a CPU: a warning, then the user's choice
    (``ask``: False for a dry run, which only shows the plan)."""
    if getattr(machine.device, "type", "cpu") == "cuda":
        return
    total = wall_seconds(plan, est, jobs)
    if plan.preset != "paper" and total <= LONG_ON_CPU_S:
        return
    why = (
        "the paper's scale is meant for a GPU; preset=demo runs the same pipeline in minutes"
        if plan.preset == "paper"
        else f"over {duration(LONG_ON_CPU_S)}; a smaller preset or fewer steps run sooner"
    )
    console.print(
        f"[bold yellow]warning:[/] preset={plan.preset} on a CPU: about {duration(total)} by this estimate ({why}).",
        soft_wrap=True,
    )
    if not ask:
        return
    if not confirm:
        console.print("pipeline.confirm=false: running it anyway", soft_wrap=True)
        return
    if not sys.stdin.isatty():
        raise ConfigError(
            f"preset={plan.preset} on a CPU would run for about {duration(total)}; pass "
            "pipeline.confirm=false to run it anyway, run.device=cuda on a GPU machine, or preset=demo"
        )
    answer = console.input("Run it on this CPU anyway? [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ConfigError("not run (answered no); preset=demo runs the same pipeline in minutes on a CPU")


def preflight(
    plan: Plan, machine: Machine, confirm: bool, probe: Probe | None = None, dry_run: bool = False, jobs: int = 1
) -> dict[str, StepNeeds]:
    """Print the table and decide; returns the estimates (the pipeline's ETA starts from them)."""
    started = time.perf_counter()
    probe = probe or Probe(machine.device)
    est = needs(plan, machine.device, probe, machine.memory)
    console.print(table(plan, est, machine, probe, jobs))
    check_fits(plan, est, machine, jobs)
    check_sources(plan)
    confirm_long_run(plan, est, machine, confirm, ask=not dry_run, jobs=jobs)
    console.print(f"[dim]pre-flight: {time.perf_counter() - started:.1f} s", soft_wrap=True)
    return est
