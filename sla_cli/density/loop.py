"""The training all three models share, on the training engine (``sla_cli.training.fit``): Adam, a
fresh binarization of the grey training images every epoch, a row of the curve (mean training loss
per image, the test number) and a checkpoint after every epoch, resume from the last one.

``fit`` and ``Schedule`` keep the signatures the density and classify stages call; the engine
counts optimizer steps, an epoch is ``ceil(n / batch_size)`` of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from sla_cli import runfolder
from sla_cli.density.data import binarize_dynamic
from sla_cli.runtime import autocast, console
from sla_cli.training import Checkpoints, EpochBatches, Log, TrainingDiverged, per_epoch
from sla_cli.training import fit as engine_fit

__all__ = ["Fit", "LossFn", "Schedule", "TrainingDiverged", "fit"]  # TrainingDiverged: the engine's, for old imports

LossFn = Callable[[nn.Module, Tensor], Tensor]  # (model, binary batch [B, D]) -> loss per image [B], nats


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


class _EpochRows:
    """The engine's meter for the curve: each epoch's mean training loss per image, summed in float32
    on the way as the per-epoch loop summed it on the device, and the test number."""

    def __init__(self, key: str, model: nn.Module, test_loss: Callable[[nn.Module], float], n_images: int,
                 steps_per_epoch: int, device: torch.device):
        self.key, self.model, self.test_loss, self.n_images = key, model, test_loss, n_images
        self.steps_per_epoch, self.device = steps_per_epoch, device
        self.total = np.float32(0)

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.total = np.float32(self.total + np.float32(losses[self.key]))

    def row(self, step: int, seconds: float) -> dict:
        train_loss, self.total = float(self.total) / self.n_images, np.float32(0)
        self.model.eval()
        with torch.no_grad(), autocast(self.device):
            test = float(self.test_loss(self.model))
        self.model.train()
        return {"epoch": step // self.steps_per_epoch, "train_loss": train_loss, "test_loss": test,
                "train_seconds": round(seconds, 3)}

    def state_dict(self) -> dict:
        return {}  # rows end at epoch ends, where checkpoints are: nothing is pending there

    def load_state_dict(self, state: dict) -> None:
        pass


def fit(name: str, model: nn.Module, loss_fn: LossFn, test_loss: Callable[[nn.Module], float], grey: Tensor,
        schedule: Schedule, device: torch.device, generator: torch.Generator, run: runfolder.Run | None,
        resume: bool = False, resume_key: dict | None = None) -> Fit:
    """Train ``model`` on ``grey`` [N, D]; checkpoints go to ``<run folder>/<name>/checkpoints``
    (run None: no checkpoints)."""
    n, size = grey.shape[0], schedule.batch_size
    steps_per_epoch = (n + size - 1) // size

    def start(epoch: int) -> tuple[Tensor, Tensor]:  # the epoch's draws: a fresh binarization, an order
        x = binarize_dynamic(grey, generator)
        return x, torch.randperm(n, generator=generator).to(x.device)

    key = f"{name} training"

    def loss(batch: Tensor):
        per_image = loss_fn(model, batch).float()
        return per_image.mean(), {key: per_image.detach().sum()}

    checkpoints = None if run is None else Checkpoints(run, steps_per_epoch, schedule.keep_checkpoints,
                                                       subfolder=name, key=resume_key)
    resume_from = _resume_point(name, checkpoints, steps_per_epoch) if resume and checkpoints else None
    epochs = schedule.epochs
    log = Log(steps_per_epoch, _EpochRows(key, model, test_loss, n, steps_per_epoch, device), name,
              lambda state, _: f"epoch {state.step // steps_per_epoch}/{epochs}  {_info(state.rows)}",
              hint="try a lower density.lr")
    state = engine_fit(
        model, EpochBatches(steps_per_epoch, start, lambda order, i: order[0][order[1][i * size:(i + 1) * size]]),
        loss, per_epoch(schedule.lr_at, steps_per_epoch), steps=epochs * steps_per_epoch,
        stop_at=schedule.stop_after * steps_per_epoch, log=log, checkpoints=checkpoints, resume_from=resume_from,
        generator=generator)
    return Fit(state.rows, state.seconds, state.step // steps_per_epoch, state.finished)


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
    return f"train {rows[-1]['train_loss']:.2f}  test {rows[-1]['test_loss']:.2f} nats" if rows else ""
