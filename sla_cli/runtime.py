"""Device choice, seeding, bf16 autocast and the progress bar: the same for every stage."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sla_cli.errors import ConfigError

console = Console(stderr=True)


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


# Tests set this to run the GPU's bf16 code path on a CPU (tests/test_bf16_paths.py): dtype bugs
# in mixed precision then show up on machines without a GPU too.
BF16_ON_CPU = False


def autocast(device: torch.device):
    """bf16 autocast on CUDA (tensor cores); plain float32 on CPU, where bf16 is slower."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if BF16_ON_CPU:
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def progress() -> Progress:
    """A rich progress bar on stderr; `progress.update(task, advance=1, loss=...)` shows extra fields."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )
