"""The Adam training the set and the MLP share, so "the same training budget" is the same code: a
thin adapter onto the training engine (``sla_cli.training.fit``) with the signature the class
autoencoders and the MLP call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from sla_cli import distributed
from sla_cli.classify.model_checkpoints import ModelCheckpoint
from sla_cli.training import EpochBatches, Log, cosine_annealing, fit


def train_with_adam(
    model: nn.Module,
    lr: float,
    epochs: int,
    steps: int,
    device: torch.device,
    label: str,
    epoch_order: Callable[[int], Any],
    batch_loss: Callable[[Any, int], torch.Tensor],
    describe: Callable[[torch.Tensor], str],
    show_every: int = 50,
    checkpoint: ModelCheckpoint | None = None,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Adam with a cosine learning-rate schedule over ``epochs * steps`` steps, with a progress bar.

    ``epoch_order(epoch)`` draws the epoch's sample order; ``batch_loss(order, step)`` is the loss of
    one batch of it (run under bf16 autocast on GPU); ``describe(loss)`` is what the bar shows. The
    loss is checked every ``show_every`` steps (one host sync): a non-finite one stops the run.
    ``checkpoint``: where the model checkpoints at epoch ends and resumes from (with
    ``generator``, the sampler ``epoch_order`` draws from, so a resumed run is the same bit for bit).
    """
    batches = EpochBatches(
        steps,
        lambda epoch: distributed.shard_batches(epoch_order(epoch)),  # torchrun: a slice
        lambda order, s: (order, s),
    )  # of each batch

    def loss(batch):
        value = batch_loss(*batch)
        return value, {label: value}

    log = Log(
        show_every,
        label=label,
        hint="try a lower classify.train.lr",
        describe=lambda state, losses: (
            f"epoch {-(-state.step // steps)}/{epochs} {describe(torch.tensor(losses[label]))}"
        ),
    )
    checkpoints, saved = checkpoint.engine(steps) if checkpoint is not None else (None, None)
    fit(
        model,
        batches,
        loss,
        cosine_annealing(lr, epochs * steps),
        steps=epochs * steps,
        sharded=True,
        log=log,
        checkpoints=checkpoints,
        resume_from=saved,
        generator=generator,
    )
    return model
