"""The training engine on a toy regression: resume equals an uninterrupted run bit for bit, a NaN
stops the run naming its step and the last good checkpoint, losses are read once per interval,
the learning rate is a function of the step counter, and checkpoints count optimizer steps."""

from __future__ import annotations

import math

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from sla_cli import runfolder
from sla_cli.errors import DataError, SlaError
from sla_cli.training import (
    Checkpoints,
    EpochBatches,
    Log,
    MeanLosses,
    TrainingDiverged,
    checkpoint,
    cosine_annealing,
    fit,
)

STEPS = 30


class Toy:
    """y = x @ w + noise; a linear model, batches drawn from a sampler generator, and a loss that also
    draws from torch's global RNG (as dropout or a VAE's noise would), so both must be restored."""

    def __init__(self, seed: int = 0, nan_from: int | None = None):
        torch.manual_seed(seed)
        self.model = nn.Linear(6, 2)
        self.generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(64, 6, generator=self.generator)
        self.y = self.x @ torch.randn(6, 2, generator=self.generator)
        self.nan_from, self.drawn, self.lrs = nan_from, [], []

    def batches(self, step: int) -> torch.Tensor:
        self.drawn.append(step)
        return torch.randint(64, (8,), generator=self.generator)

    def loss(self, index: torch.Tensor) -> torch.Tensor:
        self.lrs.append(self.optimizer.param_groups[0]["lr"])
        noisy = self.x[index] + 0.1 * torch.randn(len(index), 6)
        value = ((self.model(noisy) - self.y[index]) ** 2).mean()
        step = len(self.drawn)  # 1-based number of the step being taken
        return value * math.nan if self.nan_from is not None and step >= self.nan_from else value

    def fit(self, folder, stop_at: int = 0, resume: bool = False, every: int = 7, log_every: int = 5):
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=0.05)
        with runfolder.Run(folder, "toy", OmegaConf.create({"seed": 0})) as run:
            checkpoints = Checkpoints(run, every, keep=2, key={"lr": 0.05})
            found = checkpoints.latest() if resume else None
            state = fit(
                self.model,
                self.batches,
                self.loss,
                cosine_annealing(0.05, STEPS),
                steps=STEPS,
                stop_at=stop_at,
                optimizer=self.optimizer,
                generator=self.generator,
                log=Log(log_every, MeanLosses()),
                checkpoints=checkpoints,
                resume_from=found[0] if found else None,
            )
            if not state.finished:
                run.leave_incomplete()
        return state


def _timeless(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "train_seconds"} for row in rows]


def test_resume_after_a_stop_equals_the_uninterrupted_run_bit_for_bit(tmp_path):
    straight = Toy()
    whole = straight.fit(tmp_path / "whole")
    first, second = Toy(), Toy()
    stopped = first.fit(tmp_path / "parts", stop_at=12)  # between checkpoints (7, 14) and log rows (10, 15)
    assert not stopped.finished and stopped.step == 12
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path / "parts")] == [7, 12]
    assert not torch.equal(first.model.weight, straight.model.weight)
    resumed = second.fit(tmp_path / "parts", resume=True)
    assert second.drawn[0] == 12  # continued at the stop, not from step 0
    assert resumed.finished and resumed.step == STEPS
    for a, b in zip(straight.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert _timeless(resumed.rows) == _timeless(whole.rows) and len(whole.rows) == STEPS // 5
    assert first.lrs + second.lrs == straight.lrs  # the schedule needs no state of its own


def test_resume_refuses_a_checkpoint_made_with_another_key(tmp_path):
    Toy().fit(tmp_path, stop_at=7)
    with runfolder.Run(tmp_path, "toy", OmegaConf.create({"seed": 0})) as run:
        with pytest.raises(DataError, match="other settings"):
            Checkpoints(run, 7, key={"lr": 0.1}).latest()
        run.leave_incomplete()


def test_a_nan_loss_raises_naming_the_step_and_the_last_good_checkpoint(tmp_path):
    toy = Toy(nan_from=13)
    with pytest.raises(TrainingDiverged) as caught:
        toy.fit(tmp_path, every=5, log_every=10)  # checks at 5, 10, 15: step 13's NaN is found at 15
    message = str(caught.value)
    assert "the training loss became nan at step 13" in message
    assert message.endswith(f"the last good checkpoint is {checkpoint.path_for(tmp_path, 10)}")
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path)] == [5, 10]  # step 15's was never written
    assert toy.drawn[-1] == 14  # the run went on to the check (no sync per step), no further


def test_losses_are_read_once_per_interval_not_per_step(tmp_path):
    toy = Toy()
    seen_at = {}  # step -> the last step drawn when the engine handed its loss over (read from the device)

    class Recorder(MeanLosses):
        def add(self, step, losses):
            seen_at[step] = toy.drawn[-1]
            super().add(step, losses)

    toy.optimizer = torch.optim.Adam(toy.model.parameters(), lr=0.05)
    fit(
        toy.model,
        toy.batches,
        toy.loss,
        cosine_annealing(0.05, STEPS),
        steps=STEPS,
        optimizer=toy.optimizer,
        log=Log(10, Recorder()),
    )
    assert seen_at == {step: (step - 1) // 10 * 10 + 9 for step in range(1, STEPS + 1)}


def test_the_learning_rate_is_torchs_cosine_as_a_function_of_the_counter():
    for lr, total in ((0.05, 30), (0.003, 1), (0.01, 1500), (1e-3, 7)):
        opt = torch.optim.Adam([nn.Parameter(torch.zeros(1))], lr=lr)
        torch_sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
        expected = []
        for _ in range(total + 1):
            expected.append(opt.param_groups[0]["lr"])
            opt.step()
            torch_sched.step()
        schedule = cosine_annealing(lr, total)
        assert [schedule(t) for t in reversed(range(total + 1))][::-1] == expected  # any order, same floats
        assert expected[-1] < 1e-12 * lr or total == 1


def test_the_checkpoint_counter_counts_optimizer_steps_in_an_epoch_trainer(tmp_path):
    """An epoch-based trainer (3 epochs of 4 batches) checkpointing per epoch: files and counters
    are optimizer steps, the same count Adam keeps, not epochs."""
    toy = Toy()
    order = EpochBatches(
        4, lambda epoch: torch.randperm(32, generator=toy.generator), lambda perm, i: perm[i * 8 : (i + 1) * 8]
    )
    toy.optimizer = torch.optim.Adam(toy.model.parameters(), lr=0.05)
    with runfolder.Run(tmp_path, "toy", OmegaConf.create({"seed": 0})) as run:
        fit(
            toy.model,
            lambda step: (toy.drawn.append(step), order(step))[1],
            toy.loss,
            cosine_annealing(0.05, 12),
            steps=12,
            optimizer=toy.optimizer,
            generator=toy.generator,
            checkpoints=Checkpoints(run, every=4, keep=5),
        )
    found = checkpoint.list_checkpoints(tmp_path)
    assert [s for s, _ in found] == [4, 8, 12]
    state = checkpoint.load(found[-1][1])
    assert state["step"] == 12 == int(state["optimizer"]["state"][0]["step"])
    assert "epoch" not in state


def test_epoch_batches_refuse_to_continue_inside_an_epoch():
    batches = EpochBatches(4, lambda epoch: torch.arange(32), lambda order, i: order[i * 8 : (i + 1) * 8])
    assert batches(4).tolist() == list(range(8))
    with pytest.raises(SlaError, match="inside epoch 3"):
        EpochBatches(4, lambda epoch: torch.arange(32), lambda order, i: order)(9)


def test_one_training_diverged_for_every_stage():
    from sla_cli.density.loop import TrainingDiverged as density_diverged
    from sla_cli.train.trainer import TrainingDiverged as train_diverged

    assert train_diverged is density_diverged is TrainingDiverged
