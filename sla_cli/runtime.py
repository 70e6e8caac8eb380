"""Device choice, seeding, bf16 autocast and the progress bar: the same for every stage."""

from __future__ import annotations

import contextlib
import os
import random
import time
from typing import Literal

import numpy as np
import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from sla_cli.console import console  # noqa: F401  (stages import it from here)
from sla_cli.errors import ConfigError

# oneDNN's AMX bf16 kernels die with SIGILL on hosts (VMs) that advertise AMX without enabling its
# tile state (run.precision=bf16 on CPU); capping oneDNN at AVX512-BF16 is safe everywhere. oneDNN
# reads this once, at its first op of any kind (fp32 too), so it is set on import, before any work.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("run.device=cuda but no CUDA device is visible (use run.device=auto or run.device=cpu)")
    return torch.device(name)


def set_cpu_threads(threads: int) -> None:
    """torch's intra-op CPU threads; 0 keeps torch's default."""
    if threads > 0:
        torch.set_num_threads(threads)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; returns a CPU generator for code that takes one explicitly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


PRECISIONS = ("auto", "fp32", "bf16")
_precision = "auto"  # the job's `precision` setting, set once per job by configure()
_progress_every = 0  # the job's `progress_every`: lines without a terminal every N steps (0: every 10%)


def configure(threads: int, precision: str, progress_every: int = 0) -> None:
    """Apply a job's runtime settings (conf/common.yaml's threads, precision and progress_every)."""
    global _precision, _progress_every
    set_cpu_threads(threads)
    _precision = precision
    _progress_every = progress_every


def autocast(device: torch.device):
    """Mixed precision by the `precision` setting: auto is bf16 autocast on CUDA (tensor cores) and
    float32 on CPU, where bf16 is slower; bf16 forces it on CPU too (how tests catch dtype bugs of
    the GPU path without a GPU); fp32 never autocasts."""
    if _precision == "fp32" or (_precision == "auto" and device.type != "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class _Progress(Progress):
    """A run that fails or is interrupted ends in one line, not behind a half-drawn bar (rich draws
    the bar's last state on exit, also when stderr is not a terminal)."""

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for task in list(self.task_ids):
                self.remove_task(task)
        return super().__exit__(exc_type, exc, tb)


class LineProgress:
    """Progress where stderr is not a terminal (nohup, SLURM logs, pipes), where a bar would only be
    drawn once at the end: a line with the rate and the time left every ``every`` steps (0: every
    10% of the total, and at least once a minute, once a task has run 5 s), and one at its end.
    The same calls as rich's Progress (add_task, update, advance, remove_task)."""

    QUIET_S, MINUTE = 5.0, 60.0

    def __init__(self, every: int = 0, clock=time.monotonic, write=None):
        self.every, self.clock = every, clock
        self.write = write or (lambda line: console.print(line, soft_wrap=True, highlight=False, markup=False))
        self.tasks: dict[int, dict] = {}

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        if exc_type is None:
            for task_id, task in self.tasks.items():
                if task["printed"] and task["completed"] != task["printed_at"]:
                    self._line(task_id)
        return False

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields) -> TaskID:
        task_id = TaskID(len(self.tasks))
        now = self.clock()
        self.tasks[task_id] = {
            "description": description,
            "total": total,
            "completed": completed,
            "start": completed,
            "started": now,
            "last": now,
            "printed": False,
            "printed_at": completed,
            "fields": fields,
        }
        return task_id

    def remove_task(self, task_id: int) -> None:
        self.tasks.pop(task_id, None)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(
        self,
        task_id: int,
        *,
        advance: float | None = None,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
        **fields,
    ) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            return
        before = task["completed"]
        if completed is not None:
            task["completed"] = completed
        if advance is not None:
            task["completed"] += advance
        if total is not None:
            task["total"] = total
        if description is not None:
            task["description"] = description
        task["fields"].update(fields)
        if task["completed"] != before and self._due(task, before):
            self._line(task_id)

    def _due(self, task: dict, before: float) -> bool:
        now, done, total = self.clock(), task["completed"], task["total"]
        if self.every > 0:
            return done // self.every > before // self.every or (total is not None and done >= total)
        if now - task["started"] < self.QUIET_S:
            return False
        step = (total or 0) / 10
        crossed = step > 0 and done // step > task["printed_at"] // step
        return crossed or now - task["last"] >= self.MINUTE or (total is not None and done >= total)

    def _line(self, task_id: int) -> None:
        task = self.tasks[task_id]
        now, done, total = self.clock(), task["completed"], task["total"]
        elapsed = max(now - task["started"], 1e-9)
        rate = (done - task["start"]) / elapsed
        parts = [f"{task['description']}: {done:g}" + (f"/{total:g} ({100 * done / total:.0f}%)" if total else "")]
        parts.append(f"{rate:.3g} it/s" if rate >= 1 else f"{1 / rate:.3g} s/it" if rate > 0 else "starting")
        if total and rate > 0:
            parts.append(f"{_clock(max(total - done, 0) / rate)} left")
        parts.append(f"{_clock(elapsed)} elapsed")
        info = task["fields"].get("info")
        self.write(", ".join(parts) + (f", {info}" if info else ""))
        task.update(last=now, printed=True, printed_at=done)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress() -> Progress | LineProgress:
    """A rich progress bar on stderr; `progress.update(task, advance=1, loss=...)` shows extra fields.
    Without a terminal, progress lines instead (``LineProgress``)."""
    if not console.is_terminal:
        return LineProgress(_progress_every)
    return _Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )
