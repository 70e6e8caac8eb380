"""Checkpoints: everything a resumed run needs to continue bit for bit, as tensors and plain data.

Each is written to a temporary name and renamed into place, so a kill mid-write leaves the
previous checkpoint as the latest; ``torch.load(weights_only=True)`` reads them back.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.runtime import console

FOLDER = "checkpoints"
PATTERN = re.compile(r"^step_(\d+)\.pt$")


def path_for(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / FOLDER / f"step_{step:08d}.pt"


def list_checkpoints(out_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first (temporary files of an interrupted write do not match)."""
    folder = Path(out_dir) / FOLDER
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := PATTERN.match(p.name))]
    return sorted(found)


def save(run: runfolder.Run, step: int, state: dict, keep: int, subfolder: str = "") -> Path:
    """Write step ``step``'s checkpoint through the run (atomic), into ``subfolder``/checkpoints/ of
    its folder, then prune: checkpoints of later steps belong to a run this one replaces
    (overwrite=true), and only the newest ``keep`` stay."""
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
        raise DataError(f"{path} is not an sla train checkpoint")
    return state


def latest(folder: Path) -> tuple[Path, dict] | None:
    """The newest checkpoint under ``folder`` that loads, and its state; None when there is none.
    A newer one that does not load (cut short by a failing disk or a copy) is passed over with a
    note and left in place; when none loads, the newest one's error."""
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


def rng_state(generator: torch.Generator, device: torch.device) -> dict:
    state = {"sampler": generator.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict, generator: torch.Generator, device: torch.device) -> None:
    generator.set_state(state["sampler"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
