"""density.loop on the training engine: checkpoints count optimizer steps, and a checkpoint written
before the engine (its "step" counted epochs) still resumes to the uninterrupted run's numbers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf
from torch import nn

from sla_cli import runfolder
from sla_cli.density.loop import Schedule, fit
from sla_cli.training import checkpoint

N, D, BATCH = 40, 12, 16  # 3 steps an epoch (the last one short)


def _train(folder, epochs: int = 3, stop_after: int = 0, resume: bool = False):
    torch.manual_seed(0)
    model = nn.Linear(D, D)
    generator = torch.Generator().manual_seed(0)
    grey = torch.rand(N, D, generator=generator)
    per_image = lambda m, x: F.binary_cross_entropy_with_logits(m(x), x, reduction="none").sum(1)  # noqa: E731
    with runfolder.Run(folder, "density", OmegaConf.create({"seed": 0})) as run:
        result = fit("toy", model, per_image, lambda m: per_image(m, grey[:8].round()).mean(), grey,
                     Schedule(epochs, BATCH, 0.01, stop_after=stop_after), torch.device("cpu"), generator, run,
                     resume=resume, resume_key={"k": 1})
        if not result.finished:
            run.leave_incomplete()
    return model, result


def _timeless(rows):
    return [{k: v for k, v in row.items() if k != "train_seconds"} for row in rows]


def test_checkpoints_count_steps_and_an_epoch_counted_one_still_resumes(tmp_path):
    whole_model, whole = _train(tmp_path / "whole")
    assert [s for s, _ in checkpoint.list_checkpoints(tmp_path / "whole" / "toy")] == [6, 9]  # 3 steps an epoch
    assert [row["epoch"] for row in whole.rows] == [1, 2, 3]
    _, stopped = _train(tmp_path / "parts", stop_after=1)
    assert not stopped.finished and stopped.epoch == 1
    # rewrite the checkpoint as the loop before the engine wrote it: "step" and its file name counted epochs
    path = checkpoint.path_for(tmp_path / "parts" / "toy", 3)
    state = torch.load(path, weights_only=True)
    path.unlink()
    torch.save({**state, "step": 1, "epoch": 1}, checkpoint.path_for(tmp_path / "parts" / "toy", 1))
    model, resumed = _train(tmp_path / "parts", resume=True)
    assert resumed.finished and _timeless(resumed.rows) == _timeless(whole.rows)
    assert torch.equal(model.weight, whole_model.weight) and torch.equal(model.bias, whole_model.bias)
