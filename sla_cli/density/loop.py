"""The training loop all three models share: Adam, a fresh binarization of the grey training
images every epoch, one progress bar per model, a checkpoint after every epoch (sla train's
``checkpoint`` module) and resume from the last one.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

import torch
from torch import Tensor, nn

from sla_cli import runfolder
from sla_cli.density.data import binarize_dynamic
from sla_cli.errors import DataError, SlaError
from sla_cli.runtime import autocast, console, progress
from sla_cli.train import checkpoint

LossFn = Callable[[nn.Module, Tensor], Tensor]  # (model, binary batch [B, D]) -> loss per image [B], nats


class TrainingDiverged(SlaError):
    exit_code = 1


@dataclass
class Schedule:
    epochs: int
    batch_size: int
    lr: float
    keep_checkpoints: int = 2
    stop_after: int = 0  # >0: stop after this epoch, leaving a checkpoint (an interrupted run, for resume)
    cosine: bool = True  # the learning rate follows a half cosine from lr to 0 over the epochs

    def lr_at(self, epoch: int) -> float:
        """A function of the epoch alone, so a resumed run needs no scheduler state."""
        return self.lr * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs)) if self.cosine else self.lr


@dataclass
class Fit:
    rows: list[dict] = field(default_factory=list)  # one per epoch: epoch, train_loss, test_loss, train_seconds
    seconds: float = 0.0
    epoch: int = 0
    finished: bool = False


def fit(name: str, model: nn.Module, loss_fn: LossFn, test_loss: Callable[[nn.Module], float], grey: Tensor,
        schedule: Schedule, device: torch.device, generator: torch.Generator, run: runfolder.Run | None,
        resume: bool = False, resume_key: dict | None = None) -> Fit:
    """Train ``model`` on ``grey`` [N, D]; checkpoints go to ``<run folder>/<name>/checkpoints``
    (run None: no checkpoints)."""
    folder = run.out_dir / name if run is not None else None
    optimizer = torch.optim.Adam(model.parameters(), lr=schedule.lr)
    state = Fit()
    if resume and folder is not None:
        _restore(name, folder, model, optimizer, generator, device, state, resume_key)
    n = grey.shape[0]
    per_epoch = (n + schedule.batch_size - 1) // schedule.batch_size
    end = schedule.epochs if not schedule.stop_after else min(schedule.epochs, schedule.stop_after)
    with progress() as bar:
        task = bar.add_task(f"{name} epoch {state.epoch + 1}/{schedule.epochs}", total=schedule.epochs * per_epoch,
                            completed=state.epoch * per_epoch, info=_info(state.rows))
        try:
            while state.epoch < end:
                bar.update(task, description=f"{name} epoch {state.epoch + 1}/{schedule.epochs}")
                start = time.perf_counter()
                for group in optimizer.param_groups:
                    group["lr"] = schedule.lr_at(state.epoch)
                train_loss = _epoch(model, loss_fn, optimizer, grey, schedule.batch_size, device, generator,
                                    lambda: bar.advance(task))
                state.epoch += 1
                _check(name, train_loss, state.epoch, folder)
                model.eval()
                with torch.no_grad(), autocast(device):
                    test = float(test_loss(model))
                model.train()
                state.seconds += time.perf_counter() - start
                state.rows.append({"epoch": state.epoch, "train_loss": train_loss, "test_loss": test,
                                   "train_seconds": round(state.seconds, 3)})
                bar.update(task, info=_info(state.rows))
                if folder is not None:
                    checkpoint.save(run, state.epoch, {
                        "step": state.epoch,  # the checkpoint module's name for the counter: epochs here
                        "epoch": state.epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "rng": checkpoint.rng_state(generator, device), "rows": state.rows,
                        "train_seconds": state.seconds, "resume_key": resume_key}, schedule.keep_checkpoints,
                        subfolder=name)
        except SlaError:
            bar.remove_task(task)  # the error alone on stderr, not after a half-drawn bar
            raise
    state.finished = state.epoch >= schedule.epochs
    model.eval()
    return state


def _epoch(model, loss_fn, optimizer, grey, batch_size, device, generator, advance) -> float:
    """One pass over a fresh binarization; the mean loss per image, synchronized once at the end."""
    model.train()
    x = binarize_dynamic(grey, generator)
    order = torch.randperm(x.shape[0], generator=generator).to(x.device)
    total = torch.zeros((), device=x.device)
    for start in range(0, x.shape[0], batch_size):
        batch = x[order[start:start + batch_size]]
        with autocast(device):
            loss = loss_fn(model, batch).float()
        optimizer.zero_grad(set_to_none=True)
        loss.mean().backward()
        optimizer.step()
        total += loss.detach().sum()
        advance()
    return float(total) / x.shape[0]


def _check(name: str, loss: float, epoch: int, folder: Path) -> None:
    if loss != loss or loss in (float("inf"), float("-inf")):
        found = checkpoint.list_checkpoints(folder) if folder is not None else []
        kept = f"the last good checkpoint is {found[-1][1]}" if found else "no checkpoint was written yet"
        raise TrainingDiverged(f"the {name} training loss became {loss} in epoch {epoch} "
                               f"(try a lower density.lr); {kept}")


def _restore(name, folder, model, optimizer, generator, device, state: Fit, resume_key: dict) -> None:
    found = checkpoint.latest(folder)  # the newest that loads
    if found is None:
        console.print(f"no {name} checkpoint in {folder}: {name} starts from epoch 0")
        return
    path, saved = found
    if saved.get("resume_key") != resume_key:
        raise DataError(f"{path} was made with different settings ({saved.get('resume_key')}); "
                        "resume with the same ones or pass overwrite=true")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    checkpoint.restore_rng(saved["rng"], generator, device)
    state.epoch, state.rows, state.seconds = saved["epoch"], saved["rows"], saved["train_seconds"]
    console.print(f"resuming {name} from epoch {state.epoch} ({path.name})")


def _info(rows: list[dict]) -> str:
    return f"train {rows[-1]['train_loss']:.2f}  test {rows[-1]['test_loss']:.2f} nats" if rows else ""
