"""The Adam training loop the set and the MLP share, so "the same training budget" is the same code."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import torch
from torch import nn

from sla_cli import distributed
from sla_cli.runtime import autocast, progress


def train_with_adam(model: nn.Module, lr: float, epochs: int, steps: int, device: torch.device, label: str,
        epoch_order: Callable[[int], Any], batch_loss: Callable[[Any, int], torch.Tensor],
        describe: Callable[[torch.Tensor], str], show_every: int = 50) -> nn.Module:
    """Adam with a cosine learning-rate schedule over ``epochs * steps`` steps, with a progress bar.

    ``epoch_order(epoch)`` draws the epoch's sample order; ``batch_loss(order, step)`` is the loss of
    one batch of it (run under bf16 autocast on GPU); ``describe(loss)`` is what the bar shows.
    """
    opt = distributed.sync_gradients(torch.optim.Adam(model.parameters(), lr=lr))  # torchrun: all-reduced
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps)
    with progress() as bar:
        task = bar.add_task(label, total=epochs * steps, info="")
        for epoch in range(epochs):
            order = distributed.shard_batches(epoch_order(epoch))  # torchrun: each rank a slice of each batch
            for s in range(steps):
                with autocast(device):
                    value = batch_loss(order, s)
                opt.zero_grad(set_to_none=True)
                value.backward()
                opt.step()
                sched.step()
                if s % show_every == 0 or s == steps - 1:  # .item() syncs with the device: not every step
                    bar.update(task, info=f"epoch {epoch + 1}/{epochs} {describe(value)}")
                bar.advance(task)
    return model.eval()
