"""Checkpoints: everything a resumed run needs to continue bit for bit, as tensors and plain data.

A checkpoint is one dict in ``<folder>/checkpoints/step_<step>.pt``; ``step`` counts optimizer
steps (every stage: an epoch-based trainer finds its epoch as step // steps per epoch). Beside
it: ``model``, ``optimizer``, ``rng`` (the sampler generator, torch's global and CUDA's), ``rows``
(the log so far), ``train_seconds``, ``resume_key`` (what a checkpoint must match to be continued)
and what the trainer adds (its meter's state, the dataset's identity).

Each is written to a temporary name and renamed into place, so a kill mid-write leaves the
previous checkpoint as the latest; ``torch.load(weights_only=True)`` reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sla_cli import distributed, runfolder
from sla_cli.errors import DataError

FOLDER = "checkpoints"
PATTERN = re.compile(r"^step_(\d+)\.pt$")


def path_for(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / FOLDER / f"step_{step:08d}.pt"


def list_checkpoints(out_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints as (step, path), oldest first (temporaries of an interrupted write do not match)."""
    folder = Path(out_dir) / FOLDER
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := PATTERN.match(p.name))]
    return sorted(found)


def save(run: runfolder.Run, step: int, state: dict, keep: int, subfolder: str = "") -> Path:
    """Write step ``step``'s checkpoint through the run (atomic), into ``subfolder``/checkpoints/ of
    its folder, then prune: checkpoints of later steps belong to a run this one replaces
    (run.overwrite=true), and only the newest ``keep`` stay."""
    path = run.unlisted_path(path_for(Path(subfolder), step).as_posix())
    runfolder.save_torch(path, state)
    found = list_checkpoints(run.out_dir / subfolder)
    ours = [p for s, p in found if s <= step]
    for old in [p for s, p in found if s > step] + ours[:-keep]:
        old.unlink()
    return path


def load(path: Path) -> dict:
    state = runfolder.load_torch(path, "checkpoint")
    if not isinstance(state, dict) or "step" not in state:
        raise DataError(f"{path} is not an sla checkpoint (no step counter)")
    return state


def latest(folder: Path) -> tuple[Path, dict] | None:
    """The newest checkpoint under ``folder`` that loads, and its state; None when there is none.
    A newer one that does not load (cut short by a failing disk or a copy) is passed over with a
    note and left in place; when none loads, the newest one's error."""
    from sla_cli.runtime import console

    error = None
    for _, path in reversed(list_checkpoints(folder)):
        try:
            return path, load(path)
        except DataError as e:
            error = error or e
            console.print(f"[yellow]{e}; passing over it to the checkpoint before it", soft_wrap=True)
    if error is not None:
        raise error
    return None


def rng_state(generator: torch.Generator | None, device: torch.device) -> dict:
    state = {} if generator is None else {"sampler": generator.get_state()}
    state["torch"] = torch.get_rng_state()
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict, generator: torch.Generator | None, device: torch.device) -> None:
    if generator is not None:
        generator.set_state(state["sampler"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@dataclass
class Checkpoints:
    """Where and how often ``fit`` checkpoints, and what a checkpoint must match to be resumed.

    ``every``: optimizer steps between checkpoints (one is also written at the step the run stops);
    ``key``: saved as ``resume_key``, compared by ``latest``; ``extra()``: the trainer's own plain
    data saved beside the engine's; ``on_save(fit_state)``: runs after each checkpoint is written
    (sla train rewrites metrics.csv there).
    """

    run: runfolder.Run
    every: int
    keep: int = 2
    subfolder: str = ""
    key: dict | None = None
    extra: Callable[[], dict] = field(default=dict)
    on_save: Callable | None = None

    @property
    def folder(self) -> Path:
        return self.run.out_dir / self.subfolder

    def save(self, step: int, state: dict) -> Path | None:
        """Write one (rank 0 only under torchrun: the others' copies would be thrown away)."""
        if distributed.rank() > 0:
            return None
        return save(self.run, step, {**state, **self.extra(), "resume_key": self.key}, self.keep, self.subfolder)

    def latest(self) -> tuple[dict, Path] | None:
        """The newest checkpoint that loads and its path (None when there is none); one whose resume
        key differs from ``key`` is a one-line DataError."""
        found = latest(self.folder)
        if found is None:
            return None
        path, state = found
        if state.get("resume_key") != self.key:
            raise DataError(
                f"{path} was made with other settings "
                f"({runfolder.differences(state.get('resume_key'), self.key)}); "
                "resume with the same ones or pass run.overwrite=true"
            )
        return state, path
