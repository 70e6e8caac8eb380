"""``fit``: the one Adam loop of every stage (see the package's docstring for how a trainer uses it).

Per step: the learning rate from the schedule (a function of the step counter), the step's batch
(every random draw of the step is made there, in the trainer's order), then the optimizer step.
Losses stay on the device until a log or checkpoint step, where all of them since the last check
are read in one host sync and checked: a non-finite one ends the run, naming the step and the
last good checkpoint. Rows of the log come from a ``Meter``; checkpoints (``Checkpoints``) hold
the model, the optimizer, the random states, the rows and the meter, so a resumed run continues
bit for bit.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from sla_cli import distributed, tracking
from sla_cli.errors import SlaError
from sla_cli.runtime import autocast, progress
from sla_cli.training import checkpoint
from sla_cli.training.checkpoint import Checkpoints
from sla_cli.training.schedule import Schedule

# A step's losses to record: {name: 0-d tensor} (detached; the name is what the NaN error calls it)
Losses = dict[str, Tensor]
# loss(batch) -> the objective to backpropagate, or (objective, {name: tensor to record}); a bare
# objective is recorded as "training"
LossFn = Callable[[Any], "Tensor | tuple[Tensor, Losses]"]


class TrainingDiverged(SlaError):
    exit_code = 1


@dataclass
class FitState:
    step: int = 0  # optimizer steps taken
    rows: list[dict] = field(default_factory=list)  # the log: one row per log step (the meter's)
    seconds: float = 0.0  # training time; checkpoint writes not counted
    last_checkpoint: Path | None = None
    finished: bool = False  # reached ``steps`` or stopped early (False: stopped at ``stop_at``, to be resumed)
    stopped_early: bool = False  # ``stop_when`` ended the run before ``steps``


class Meter(Protocol):
    """Turns checked losses into log rows; its state is checkpointed with the run."""

    def add(self, step: int, losses: dict[str, float]) -> None: ...  # every step, in order, once checked

    def row(self, step: int, seconds: float) -> dict | None: ...  # at a log step: the row (None: none); next

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class MeanLosses:
    """Rows of each loss's mean over the steps since the previous row (None: no such step)."""

    def __init__(self, names: tuple[str, ...] = ("training",)):
        self.names = names
        self.interval = {name: [0.0, 0] for name in names}  # sums (float64) and counts

    def add(self, step: int, losses: dict[str, float]) -> None:
        for name, v in losses.items():
            self.interval[name][0] += v
            self.interval[name][1] += 1

    def row(self, step: int, seconds: float) -> dict:
        row = {"step": step, "train_seconds": round(seconds, 3)}
        for name, (total, count) in self.interval.items():
            row[f"{name}_loss"] = total / count if count else None
        self.interval = {name: [0.0, 0] for name in self.names}
        return row

    def state_dict(self) -> dict:
        return {"interval": self.interval}

    def load_state_dict(self, state: dict) -> None:
        self.interval = {k: list(v) for k, v in state["interval"].items()}


class EachStep:
    """Hands each step's checked losses to ``callback(step, losses)`` (a caller's progress bar, a log
    interval at a time) and keeps no rows; with no callback, the losses are only checked."""

    def __init__(self, callback: Callable[[int, dict[str, float]], None] | None = None):
        self.callback = callback

    def add(self, step: int, losses: dict[str, float]) -> None:
        if self.callback is not None:
            self.callback(step, losses)

    def row(self, step: int, seconds: float) -> None:
        return None

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


@dataclass
class Log:
    """What a run shows and records. ``every``: steps between loss checks and log rows (0: at the
    end only); ``label``: the progress bar's (None: no bar); ``describe(state, losses)``: the bar's
    text after a check; ``hint``: what the divergence error suggests, e.g. "try a lower train.lr"."""

    every: int = 0
    meter: Meter | None = None
    label: str | None = None
    describe: Callable[[FitState, dict[str, float]], str] | None = None
    hint: str = ""


def fit(
    model: nn.Module,
    batches: Callable[[int], Any],
    loss: LossFn | None,
    schedule: Schedule,
    *,
    steps: int,
    stop_at: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    step: Callable[[Any], Losses] | None = None,
    log: Log | None = None,
    checkpoints: Checkpoints | None = None,
    resume_from: dict | None = None,
    generator: torch.Generator | None = None,
    sharded: bool = False,
    use_autocast: bool = True,
    stop_when: Callable[[FitState], bool] | None = None,
) -> FitState:
    """Train ``model`` to ``steps`` optimizer steps (or to ``stop_at`` when > 0, leaving a checkpoint).

    ``batches(step)`` is the batch of step ``step`` (0-based) and makes the step's random draws;
    ``loss(batch)`` its loss, under bf16 autocast by the ``precision`` setting (``use_autocast``).
    ``optimizer``: Adam at ``schedule(0)`` unless given; ``step(batch) -> losses``, when given,
    replaces the engine's forward/backward/step (a trainer whose step is its own, sla train's).
    ``generator``: the sampler whose state checkpoints keep. ``resume_from``: a loaded checkpoint
    (``checkpoint.load`` / ``Checkpoints.latest``) to continue. ``sharded``: the batches are this
    rank's slice of the global batch (torchrun): gradients are all-reduced before each step and
    checked losses averaged over the ranks. ``stop_when(state)``: asked after each log row (and on
    resume); True ends the run there, finished, with a checkpoint (early stopping).
    """
    log = log or Log()
    meter = log.meter or EachStep()
    device = next(model.parameters()).device
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=schedule(0))
    if sharded:
        distributed.sync_gradients(optimizer)
    take_step = step or _adam_step(model, optimizer, loss, device, use_autocast)
    state = FitState()
    if resume_from is not None:
        _restore(resume_from, state, model, optimizer, meter, generator, device, checkpoints)
    end = min(steps, stop_at) if stop_at else steps
    if resume_from is not None and stop_when is not None and stop_when(state):  # it had stopped early
        state.stopped_early, end = True, state.step
    pending: list[tuple[int, Losses]] = []
    model.train()
    with _bar(log.label, steps, state.step) as (bar, task):
        clock = time.perf_counter()
        while state.step < end:
            for group in optimizer.param_groups:
                group["lr"] = schedule(state.step)
            losses = take_step(batches(state.step))
            state.step += 1
            pending.append((state.step, losses))
            at_log = (log.every and state.step % log.every == 0) or state.step == steps
            at_checkpoint = checkpoints is not None and (state.step % checkpoints.every == 0 or state.step == end)
            if at_log or at_checkpoint or state.step == end:
                last = _check(pending, meter, sharded, state.last_checkpoint, log.hint)
                pending = []
                row = meter.row(state.step, state.seconds + time.perf_counter() - clock) if at_log else None
                if row is not None:
                    state.rows.append(row)
                    tracking.row(log.label, row)  # run.logger=tensorboard; nothing otherwise
                if at_log and stop_when is not None and state.step < end and stop_when(state):
                    state.stopped_early, end = True, state.step
                    at_checkpoint = checkpoints is not None
                if at_log and bar is not None and log.describe is not None:
                    bar.update(task, info=log.describe(state, last))
            if at_checkpoint:
                state.seconds += time.perf_counter() - clock
                _save(checkpoints, state, model, optimizer, meter, generator, device)
                clock = time.perf_counter()
            if bar is not None:
                bar.update(task, completed=state.step)
        state.seconds += time.perf_counter() - clock
    state.finished = state.step >= steps or state.stopped_early
    model.eval()
    return state


def _adam_step(model: nn.Module, optimizer, loss: LossFn, device: torch.device, use_autocast: bool):
    def step(batch) -> Losses:
        with autocast(device) if use_autocast else contextlib.nullcontext():
            out = loss(batch)
        objective, record = (out, {"training": out}) if isinstance(out, Tensor) else out
        optimizer.zero_grad(set_to_none=True)
        objective.backward()
        optimizer.step()
        return {k: v.detach() for k, v in record.items()}

    return step


def _check(
    pending: list[tuple[int, Losses]], meter: Meter, sharded: bool, last_checkpoint: Path | None, hint: str
) -> dict[str, float]:
    """One host sync for all steps since the last check; a non-finite loss ends the run. Returns the
    last step's losses."""
    if not pending:
        return {}
    values = torch.stack([v.float() for _, losses in pending for v in losses.values()])
    if sharded:
        values = distributed.batch_mean(values)  # torchrun: the global batch's losses
    it = iter(values.cpu().tolist())
    for step, losses in pending:
        checked = {name: next(it) for name in losses}
        for name, v in checked.items():
            if v != v or v in (float("inf"), float("-inf")):
                kept = (
                    f"the last good checkpoint is {last_checkpoint}"
                    if last_checkpoint
                    else "no checkpoint was written yet"
                )
                raise TrainingDiverged(
                    f"the {name} loss became {v} at step {step}{f' ({hint})' if hint else ''}; {kept}"
                )
        meter.add(step, checked)
    return checked


def _save(checkpoints: Checkpoints, state: FitState, model, optimizer, meter: Meter, generator, device) -> None:
    saved = checkpoints.save(
        state.step,
        {
            "step": state.step,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng": checkpoint.rng_state(generator, device),
            "rows": state.rows,
            **meter.state_dict(),
            "train_seconds": state.seconds,
        },
    )
    if saved is not None:  # None on torchrun's ranks > 0, which write nothing
        state.last_checkpoint = saved
        if checkpoints.on_save is not None:
            checkpoints.on_save(state)


def _restore(
    saved: dict, state: FitState, model, optimizer, meter: Meter, generator, device, checkpoints: Checkpoints | None
) -> None:
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    checkpoint.restore_rng(saved["rng"], generator, device)
    meter.load_state_dict(saved)
    state.step, state.rows, state.seconds = saved["step"], saved["rows"], saved["train_seconds"]
    if checkpoints is not None:
        state.last_checkpoint = checkpoint.path_for(checkpoints.folder, state.step)


@contextlib.contextmanager
def _bar(label: str | None, total: int, done: int):
    if label is None:
        yield None, None
        return
    with progress() as bar:
        yield bar, bar.add_task(label, total=total, completed=done, info="")
