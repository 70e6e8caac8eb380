"""Every stage's trainer runs on the engine, so a diverging loss stops each of them in one line
(before the engine, classify's and the concept second level's loops had no NaN check)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sla_cli.classify.adam_loop import train_with_adam
from sla_cli.eval.concept import second_level
from sla_cli.training import TrainingDiverged


def test_classify_training_stops_on_a_nan_loss_naming_its_model_and_step():
    model = nn.Linear(3, 1)
    x = torch.randn(20, 3)

    def batch_loss(order, s):
        loss = model(x[order[s * 5 : (s + 1) * 5]]).square().mean()
        return loss * float("nan") if s == 2 else loss

    with pytest.raises(
        TrainingDiverged,
        match=r"the seed 0 MLP loss became nan at step 3 \(try a lower "
        r"classify.train.lr\)",
    ):
        train_with_adam(
            model,
            0.01,
            epochs=2,
            steps=4,
            device=torch.device("cpu"),
            label="seed 0 MLP",
            epoch_order=lambda epoch: torch.randperm(20),
            batch_loss=batch_loss,
            describe=lambda v: f"loss {v.item():.3f}",
            show_every=4,
        )


def test_the_second_level_stops_on_a_diverging_loss():
    maps = torch.rand(30, 6)
    with pytest.raises(TrainingDiverged, match="the second level loss became"):
        second_level.train(maps, hidden=8, latent=1, steps=100, batch_size=10, lr=1e30, restarts=1, seed=0)
    calls = []
    second_level.train(
        maps, hidden=8, latent=1, steps=120, batch_size=10, lr=0.01, restarts=2, seed=0, on_step=calls.append
    )
    assert len(calls) == 240 and all(isinstance(v, float) and v >= 0 for v in calls)  # each step, in bulk
