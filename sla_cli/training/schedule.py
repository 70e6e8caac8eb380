"""Learning rates as functions of the step counter (so a resumed run needs no scheduler state),
and batches cut from one sample order per epoch.

``cosine_annealing`` reproduces torch's ``CosineAnnealingLR`` float for float: torch updates the
rate recursively (each step's rate is the last one times a ratio of cosines), which differs from
the closed form in the last bits, and the stages trained with torch's scheduler before this
engine existed; the same floats keep their models bit for bit what they were.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from sla_cli.errors import SlaError

Schedule = Callable[[int], float]  # step counter (steps taken so far) -> the next step's learning rate


def constant(lr: float) -> Schedule:
    return lambda step: lr


def cosine_annealing(lr: float, total: int) -> Schedule:
    """lr at step 0 falling along a half cosine to 0 at step ``total``, as torch's CosineAnnealingLR
    (eta_min=0) computes it; the rates are computed once, in order, and looked up."""
    rates = [float(lr)]

    def at(step: int) -> float:
        while len(rates) <= step:
            t = len(rates)
            rates.append((1 + math.cos(math.pi * t / total)) / (1 + math.cos(math.pi * (t - 1) / total)) * rates[-1])
        return rates[step]

    if total < 1:
        raise ValueError(f"a cosine schedule needs total >= 1 steps, not {total}")
    return at


def per_epoch(rate_of_epoch: Callable[[int], float], steps_per_epoch: int) -> Schedule:
    """A rate that changes once an epoch: ``rate_of_epoch(epoch)`` for every step of it."""
    return lambda step: rate_of_epoch(step // steps_per_epoch)


class EpochBatches:
    """``fit``'s batches for a trainer that goes through its data in epochs.

    ``start(epoch)`` draws the epoch's sample order (its random draws happen at the epoch's first
    step, as an epoch loop makes them); ``cut(order, i)`` is the i-th batch of it. A run resumes at
    epoch boundaries only (the order is not checkpointed): checkpoint every whole number of epochs.
    """

    def __init__(self, steps_per_epoch: int, start: Callable[[int], Any], cut: Callable[[Any, int], Any]):
        self.steps_per_epoch, self.start, self.cut = steps_per_epoch, start, cut
        self.epoch, self.order = None, None

    def __call__(self, step: int) -> Any:
        epoch, i = divmod(step, self.steps_per_epoch)
        if i == 0:
            self.epoch, self.order = epoch, self.start(epoch)
        elif epoch != self.epoch:
            raise SlaError(
                f"cannot continue at step {step}, inside epoch {epoch + 1}: this trainer resumes "
                "from checkpoints at epoch boundaries only"
            )
        return self.cut(self.order, i)
