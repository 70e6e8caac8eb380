"""The training every density model shares, on the training engine (``sla_cli.training.fit``): Adam,
the epoch's training bits (a fresh draw each epoch, or the one fixed draw), after every epoch a row of
the curve (mean training loss per image, the validation number) and a checkpoint; the weights of the
best validation epoch are kept (in the checkpoints too) and put back at the end; early stopping after
``patience`` epochs without a better validation number; resume from the last checkpoint.

The engine counts optimizer steps; an epoch is ``ceil(n / batch_size)`` of them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from sla_cli import runfolder
from sla_cli.density.base import DensityModel
from sla_cli.runtime import autocast, console
from sla_cli.schema.density import SCHEDULES
from sla_cli.training import Checkpoints, EpochBatches, Log, TrainingDiverged, per_epoch
from sla_cli.training import fit as engine_fit

__all__ = ["SCHEDULES", "Fit", "Schedule", "TrainingDiverged", "fit"]  # TrainingDiverged: the engine's, for old imports

IWAE_STAGES = 8  # Burda et al.: stage i = 0..7 at lr * 10^(-i/7) for 3^i passes


@dataclass
class Schedule:
    epochs: int
    batch_size: int
    lr: float
    kind: str = "cosine"  # one of SCHEDULES
    adam_eps: float = 1e-8
    patience: int = 0  # >0: stop after this many epochs without a better validation number
    keep_checkpoints: int = 2
    stop_after: int = 0  # >0: stop after this epoch, leaving a checkpoint (an interrupted run, for resume)

    def lr_at(self, epoch: int) -> float:
        """A function of the epoch alone, so a resumed run needs no scheduler state."""
        if self.kind == "cosine":
            return self.lr * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))
        if self.kind == "iwae":
            return self.lr * 10 ** (-iwae_stage(epoch, self.epochs) / 7)
        return self.lr


def iwae_stage(epoch: int, epochs: int) -> int:
    """The stage of ``epoch`` when ``epochs`` passes are shared among the 8 stages in proportion to
    3^i (whole epochs: stage i ends at round(epochs * (3^(i+1) - 1) / (3^8 - 1))). epochs = 3280 is
    the paper's 1, 3, 9, ..., 2187; fewer compress it, a short stage rounding to no epoch at all."""
    total = 3**IWAE_STAGES - 1
    return next(i for i in range(IWAE_STAGES) if epoch < round(epochs * (3 ** (i + 1) - 1) / total))


@dataclass
class Fit:
    rows: list[dict] = field(default_factory=list)  # per epoch: epoch, train_loss, val_loss, train/cpu seconds
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    epoch: int = 0  # epochs trained
    finished: bool = False
    stopped_early: bool = False
    best_epoch: int | None = None  # the epoch whose weights the model holds (None: no validation, the last)
    best_val: float | None = None


class _EpochRows:
    """The engine's meter: each epoch's mean training loss per image (summed in float32 as the
    device summed it), the validation number, CPU time, and the best validation epoch's weights."""

    def __init__(
        self, key: str, model: nn.Module, val_loss: Callable[[], float] | None, n_images: int, steps_per_epoch: int
    ):
        self.key, self.model, self.val_loss, self.n_images = key, model, val_loss, n_images
        self.steps_per_epoch = steps_per_epoch
        self.total = np.float32(0)
        self.cpu_seconds, self._clock = 0.0, time.process_time()
        self.best_epoch, self.best_val, self.best_model = None, math.inf, None

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.total = np.float32(self.total + np.float32(losses[self.key]))

    def row(self, step: int, seconds: float) -> dict:
        epoch = step // self.steps_per_epoch
        train_loss, self.total = float(self.total) / self.n_images, np.float32(0)
        row = {"epoch": epoch, "train_loss": train_loss}
        if self.val_loss is not None:
            row["val_loss"] = val = self.val_loss()
            if val < self.best_val:  # a copy on the CPU: checkpointed with the run, put back at the end
                self.best_epoch, self.best_val = epoch, val
                self.best_model = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
        now = time.process_time()
        self.cpu_seconds, self._clock = self.cpu_seconds + now - self._clock, now
        return {**row, "train_seconds": round(seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3)}

    def epochs_since_best(self, epoch: int) -> int:
        return epoch - self.best_epoch if self.best_epoch is not None else 0

    def state_dict(self) -> dict:  # rows end at epoch ends, where checkpoints are: no partial sum is pending
        return {
            "cpu_seconds": self.cpu_seconds,
            "best_epoch": self.best_epoch,
            "best_val": self.best_val,
            "best_model": self.best_model,
        }

    def load_state_dict(self, state: dict) -> None:
        self.cpu_seconds = state.get("cpu_seconds", 0.0)
        self.best_epoch, self.best_val = state.get("best_epoch"), state.get("best_val", math.inf)
        self.best_model = state.get("best_model")


def fit(
    name: str,
    model: DensityModel,
    n: int,
    train_bits: Callable[[], Tensor],
    val_bits: Callable[[], Tensor] | None,
    eval_batch: int,
    schedule: Schedule,
    device: torch.device,
    generator: torch.Generator,
    run: runfolder.Run | None,
    resume: bool = False,
    resume_key: dict | None = None,
    folder: str | None = None,
    min_steps_between: int = 0,
) -> Fit:
    """Train ``model`` on ``n`` images: ``train_bits()`` gives an epoch's training images [n, D]
    (called at each epoch's start), ``val_bits()`` the validation images of one evaluation (None: no
    validation). Checkpoints go to ``<run folder>/<folder or name>/checkpoints`` (run None: none), at
    every epoch's end, or every few epochs when an epoch is shorter than ``min_steps_between`` steps."""
    size = schedule.batch_size
    steps_per_epoch = (n + size - 1) // size

    def start(epoch: int) -> tuple[Tensor, Tensor]:  # the epoch's draws: its bits, then an order
        x = train_bits()
        return x, torch.randperm(n, generator=generator).to(x.device)

    key = f"{name} training"

    def loss(batch: Tensor):
        per_image = model.train_loss(batch).float()
        return per_image.mean(), {key: per_image.detach().sum()}

    def val_loss() -> float:
        model.eval()
        x, total = val_bits(), 0.0
        with torch.no_grad(), autocast(device):
            for i in range(0, len(x), eval_batch):
                total += float(model.val_loss(x[i : i + eval_batch]).float().sum())
        model.train()
        return total / len(x)

    meter = _EpochRows(key, model, val_loss if val_bits is not None else None, n, steps_per_epoch)
    checkpoints = (
        None
        if run is None
        else Checkpoints(
            run,
            steps_per_epoch * max(1, -(-min_steps_between // steps_per_epoch)),
            schedule.keep_checkpoints,
            subfolder=folder or name,
            key=resume_key,
        )
    )
    resume_from = _resume_point(name, checkpoints, steps_per_epoch) if resume and checkpoints else None
    epochs = schedule.epochs
    log = Log(
        steps_per_epoch,
        meter,
        name,
        lambda state, _: f"epoch {state.step // steps_per_epoch}/{epochs}  {_info(state.rows)}",
        hint="try a lower density.lr",
    )
    stop_when = None
    if schedule.patience and val_bits is not None:
        stop_when = lambda state: meter.epochs_since_best(state.step // steps_per_epoch) >= schedule.patience  # noqa: E731
    optimizer = torch.optim.Adam(model.parameters(), lr=schedule.lr_at(0), eps=schedule.adam_eps)
    state = engine_fit(
        model,
        EpochBatches(steps_per_epoch, start, lambda order, i: order[0][order[1][i * size : (i + 1) * size]]),
        loss,
        per_epoch(schedule.lr_at, steps_per_epoch),
        steps=epochs * steps_per_epoch,
        stop_at=schedule.stop_after * steps_per_epoch,
        optimizer=optimizer,
        log=log,
        checkpoints=checkpoints,
        resume_from=resume_from,
        generator=generator,
        stop_when=stop_when,
    )
    if state.finished and meter.best_model is not None:
        model.load_state_dict(meter.best_model)
    return Fit(
        state.rows,
        state.seconds,
        meter.cpu_seconds,
        state.step // steps_per_epoch,
        state.finished,
        state.stopped_early,
        meter.best_epoch,
        meter.best_val if meter.best_epoch is not None else None,
    )


def _resume_point(name: str, checkpoints: Checkpoints, steps_per_epoch: int) -> dict | None:
    found = checkpoints.latest()
    if found is None:
        console.print(f"no {name} checkpoint in {checkpoints.folder}: {name} starts from epoch 0")
        return None
    state, path = found
    if "epoch" in state:  # written before the engine, whose "step" counted epochs: convert the counter
        state = {**state, "step": state["epoch"] * steps_per_epoch}
    console.print(f"resuming {name} from epoch {state['step'] // steps_per_epoch} ({path.name})")
    return state


def _info(rows: list[dict]) -> str:
    if not rows:
        return ""
    val = f"  validation {rows[-1]['val_loss']:.2f}" if "val_loss" in rows[-1] else ""
    return f"train {rows[-1]['train_loss']:.2f}{val} nats"
