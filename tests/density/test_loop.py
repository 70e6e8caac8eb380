"""density.loop on the training engine: checkpoints count optimizer steps (an epoch-counted one, written
before the engine, still resumes); early stopping ends at `patience` epochs past the best validation
epoch and the model holds that epoch's weights, through a resume too; the IWAE schedule's stages."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch import nn

from sla_cli import runfolder
from sla_cli.density.base import DensityModel
from sla_cli.density.loop import Schedule, fit, iwae_stage
from sla_cli.training import checkpoint

N, D, BATCH = 40, 12, 16  # 3 steps an epoch (the last one short)


class Toy(DensityModel):
    """Independent Bernoulli pixels; its validation number follows a script, one entry per evaluation
    (the count is a buffer, so it is checkpointed and resumes with the weights)."""

    def __init__(self, script: list[float]):
        super().__init__()
        self.logits = nn.Linear(D, D)
        self.script = script
        self.register_buffer("evaluations", torch.zeros((), dtype=torch.long))
        self.weights_seen: dict[int, torch.Tensor] = {}  # evaluation number (= epoch) -> the weights then

    def train_loss(self, x):
        return F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    def val_loss(self, x):
        self.evaluations += 1
        epoch = int(self.evaluations)
        self.weights_seen[epoch] = self.logits.weight.detach().clone()
        return torch.full((len(x),), self.script[epoch - 1])


def _train(folder, script, epochs=3, patience=0, stop_after=0, resume=False):
    torch.manual_seed(0)
    model = Toy(script)
    generator = torch.Generator().manual_seed(0)
    grey = torch.rand(N, D, generator=generator)
    val = grey[:8].round()
    with runfolder.Run(folder, "density", OmegaConf.create({"seed": 0})) as run:
        result = fit(
            "toy",
            model,
            N,
            lambda: torch.bernoulli(grey, generator=generator),
            lambda: val,
            100,
            Schedule(epochs, BATCH, 0.01, patience=patience, stop_after=stop_after),
            torch.device("cpu"),
            generator,
            run,
            resume=resume,
            resume_key={"k": 1},
        )
        if not result.finished:
            run.leave_incomplete()
    return model, result


def _timeless(rows):
    return [{k: v for k, v in row.items() if k not in ("train_seconds", "cpu_seconds")} for row in rows]


def test_checkpoints_count_steps_and_an_epoch_counted_one_still_resumes(tmp_path):
    script = [3.0, 2.0, 1.0]
    whole_model, whole = _train(tmp_path / "whole", script)
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path / "whole" / "toy")] == [6, 9]  # 3 steps an epoch
    assert [row["epoch"] for row in whole.rows] == [1, 2, 3] and whole.best_epoch == 3
    _, stopped = _train(tmp_path / "parts", script, stop_after=1)
    assert not stopped.finished and stopped.epoch == 1
    # rewrite the checkpoint as the loop before the engine wrote it: "step" and its file name counted epochs
    path = checkpoint.path_for(tmp_path / "parts" / "toy", 3)
    state = torch.load(path, weights_only=True)
    path.unlink()
    torch.save({**state, "step": 1, "epoch": 1}, checkpoint.path_for(tmp_path / "parts" / "toy", 1))
    model, resumed = _train(tmp_path / "parts", script, resume=True)
    assert resumed.finished and _timeless(resumed.rows) == _timeless(whole.rows)
    assert torch.equal(model.logits.weight, whole_model.logits.weight)


def test_early_stopping_keeps_the_best_validation_epoch(tmp_path):
    script = [5.0, 3.0, 4.0, 6.0, 7.0, 1.0, 0.5, 0.1]  # best at epoch 2; epochs 6.. would beat it, never reached
    model, result = _train(tmp_path / "run", script, epochs=8, patience=2)
    assert result.finished and result.stopped_early and result.epoch == 4  # epochs 3 and 4 did not improve
    assert result.best_epoch == 2 and result.best_val == 3.0
    assert [row["val_loss"] for row in result.rows] == script[:4]
    assert torch.equal(model.logits.weight, model.weights_seen[2])  # the best epoch's weights, not the last's
    assert not torch.equal(model.weights_seen[2], model.weights_seen[4])
    # without patience: all 8 epochs, and the weights of the best one (8) are the last ones
    _, full = _train(tmp_path / "full", script, epochs=8)
    assert full.epoch == 8 and not full.stopped_early and full.best_epoch == 8


def test_an_early_stopped_run_resumed_stays_stopped_with_the_best_weights(tmp_path):
    script = [5.0, 3.0, 4.0, 6.0, 7.0, 1.0, 0.5, 0.1]
    whole_model, _ = _train(tmp_path / "whole", script, epochs=8, patience=2)
    _train(tmp_path / "parts", script, epochs=8, patience=2, stop_after=3)  # interrupted before it stopped
    model, resumed = _train(tmp_path / "parts", script, epochs=8, patience=2, resume=True)
    assert resumed.stopped_early and resumed.epoch == 4 and resumed.best_epoch == 2
    assert torch.equal(model.logits.weight, whole_model.logits.weight)
    again, after = _train(tmp_path / "parts", script, epochs=8, patience=2, resume=True)  # from its last checkpoint
    assert after.stopped_early and after.epoch == 4 and torch.equal(again.logits.weight, whole_model.logits.weight)


def test_iwae_schedule_is_the_papers_at_3280_epochs_and_keeps_proportions_when_shorter():
    stages = [iwae_stage(e, 3280) for e in range(3280)]
    assert [stages.count(i) for i in range(8)] == [3**i for i in range(8)]
    short = [iwae_stage(e, 800) for e in range(800)]
    assert short == sorted(short) and short[-1] == 7 and short.count(7) == 800 - round(800 * 1093 / 3280)
    rates = {Schedule(800, 100, 1e-3, kind="iwae").lr_at(e) for e in range(800)}
    assert max(rates) <= 1e-3 and abs(min(rates) - 1e-4) < 1e-12
