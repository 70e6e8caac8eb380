"""Device choice, seeding, bf16 autocast and the progress bar: the same for every stage."""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sla_cli.console import console  # noqa: F401  (stages import it from here)
from sla_cli.errors import ConfigError

# oneDNN's AMX bf16 kernels die with SIGILL on hosts (VMs) that advertise AMX without enabling its
# tile state (precision=bf16 on CPU); capping oneDNN at AVX512-BF16 is safe everywhere. oneDNN
# reads this once, at its first op of any kind (fp32 too), so it is set on import, before any work.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device=cuda but no CUDA device is visible (use device=auto or device=cpu)")
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


def configure(threads: int, precision: str) -> None:
    """Apply a job's runtime settings (conf/common.yaml's threads and precision)."""
    global _precision
    set_cpu_threads(threads)
    _precision = precision


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


def progress() -> Progress:
    """A rich progress bar on stderr; `progress.update(task, advance=1, loss=...)` shows extra fields."""
    return _Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )
