"""How long and how regularized a classify model trains: the settings the validation grid tunes.

The set and both MLPs take the same recipe, so "the same grid" is the same values: ``epochs`` (raised
for tiny training sets until the run takes ``min_steps`` Adam steps), ``dropout`` (the MLPs drop
hidden units; the set drops input pixels, the masking noise of a denoising autoencoder, since its
hidden code is what it must reconstruct from) and ``weight_decay`` (coupled L2, as
torch.optim.Adam's weight_decay: wd / 2 |theta|^2 added to each model's own training loss).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Recipe:
    epochs: int
    dropout: float = 0.0
    weight_decay: float = 0.0
    min_steps: int = 0

    def epochs_for(self, steps_per_epoch: int) -> int:
        """``epochs``, raised until the run takes at least ``min_steps`` steps."""
        return max(self.epochs, -(-self.min_steps // steps_per_epoch))

    def l2_penalty(self, model: nn.Module) -> torch.Tensor | float:
        if self.weight_decay == 0:
            return 0.0
        return 0.5 * self.weight_decay * sum(p.float().square().sum() for p in model.parameters())

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "min_steps"}

    def name(self) -> str:
        return f"epochs {self.epochs}, dropout {self.dropout:g}, weight decay {self.weight_decay:g}"


def grid(c) -> list[Recipe]:
    """The recipes a seed trains each model with: ``classify.tune``'s grid when enabled (every
    combination, in the listed order), else the one default recipe (classify.train.epochs, no dropout,
    no weight decay)."""
    min_steps = int(c.train.min_steps)
    if not c.tune.enabled:
        return [Recipe(int(c.train.epochs), 0.0, 0.0, min_steps)]
    return [
        Recipe(int(e), float(d), float(w), min_steps)
        for e, d, w in itertools.product(c.tune.epochs, c.tune.dropout, c.tune.weight_decay)
    ]
