"""A classify run killed inside a seed continues at the last finished epoch of the model it was
training, with the same weights bit for bit, and reads back the models it had finished."""

from __future__ import annotations

import json

import pytest
import torch
from omegaconf import OmegaConf

from helpers.stages import TINY_CLASSIFY
from sla_cli import runfolder
from sla_cli.classify import model_checkpoints, train_models
from sla_cli.classify.class_autoencoders import train_class_autoencoders
from sla_cli.classify.data import Split
from sla_cli.classify.mlp import train_mlp
from sla_cli.classify.model_checkpoints import ModelCheckpoint, SeedCheckpoints
from sla_cli.classify.recipe import Recipe

pytestmark = pytest.mark.usefixtures("one_thread")  # small matmuls: one thread on a busy CPU
RECIPE = Recipe(epochs=3, dropout=0.2, weight_decay=1e-3)  # dropout: the global random stream must resume too
KEY = {"experiment": "x", "seed": 0, "model": "m", "recipe": 0}


def _data() -> Split:
    g = torch.Generator().manual_seed(0)
    return Split(torch.rand(120, 784, generator=g), torch.arange(120) % 10)


def _train(kind: str, checkpoint: ModelCheckpoint | None):
    device = torch.device("cpu")
    if kind == "ae_set":
        return train_class_autoencoders(_data(), 10, 16, 4, RECIPE, 4, 3e-3, "mse", False, device, 0, "", checkpoint)
    return train_mlp(_data(), 10, 16, RECIPE, 32, 3e-3, device, 0, "", checkpoint=checkpoint)


class DiesAfterFirstEpoch(ModelCheckpoint):
    """Killed just after the first epoch's checkpoint is on disk."""

    def engine(self, steps_per_epoch: int):
        checkpoints, state = super().engine(steps_per_epoch)

        def die(fit_state):
            raise KeyboardInterrupt

        checkpoints.on_save = die
        return checkpoints, state


def _in_run(folder, train):
    with runfolder.Run(folder, "classify", OmegaConf.create({"seed": 0})) as run:
        model = train(run)
        run.leave_incomplete()
    return model


def test_checkpoints_fall_on_epoch_ends_at_least_500_steps_apart(tmp_path):
    with runfolder.Run(tmp_path, "classify", OmegaConf.create({"seed": 0})) as run:
        checkpoint = ModelCheckpoint(run, "checkpoints/seed0/m_0", KEY, True)
        # train_per_class=100: 4 steps an epoch; the paper's set: 97; the paper's matched MLP: 430
        assert [checkpoint.engine(n)[0].every for n in (4, 97, 430, 600)] == [500, 582, 860, 600]
        run.leave_incomplete()


@pytest.mark.parametrize("kind", ["ae_set", "mlp"])
def test_a_model_killed_after_an_epoch_resumes_to_the_same_weights(kind, tmp_path, monkeypatch):
    monkeypatch.setattr(model_checkpoints, "MIN_STEPS_BETWEEN", 1)  # a checkpoint at every epoch's end
    straight = _train(kind, None)
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        _in_run(folder, lambda run: _train(kind, DiesAfterFirstEpoch(run, "checkpoints/seed0/m_0", KEY, True)))
    assert len(list(folder.glob("checkpoints/seed0/m_0/checkpoints/step_*.pt"))) == 1
    resumed_from = {}

    def resume(run):
        checkpoint = ModelCheckpoint(run, "checkpoints/seed0/m_0", KEY, True)
        model = _train(kind, checkpoint)
        resumed_from["seconds"] = checkpoint.restored_seconds
        return model

    resumed = _in_run(folder, resume)
    assert resumed_from["seconds"] > 0  # it went on from the checkpoint, not from scratch
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_checkpoint_of_another_experiment_or_resume_false_trains_from_scratch(tmp_path):
    folder = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        _in_run(folder, lambda run: _train("mlp", DiesAfterFirstEpoch(run, "checkpoints/seed0/m_0", KEY, True)))
    for key, resume in (({**KEY, "experiment": "y"}, True), (KEY, False)):
        seen = {}

        def train(run, key=key, resume=resume, seen=seen):
            checkpoint = ModelCheckpoint(run, "checkpoints/seed0/m_0", key, resume)
            seen["model"] = _train("mlp", checkpoint)
            seen["seconds"] = checkpoint.restored_seconds
            return seen["model"]

        _in_run(folder, train)
        assert seen["seconds"] == 0.0


def test_a_dropped_model_keeps_its_record_for_the_same_key_only(tmp_path):
    with runfolder.Run(tmp_path, "classify", OmegaConf.create({"seed": 0})) as run:
        ours = SeedCheckpoints(run, "experiment", 3, resume=True)
        (run.out_dir / "checkpoints/seed3/mlp_1/checkpoints").mkdir(parents=True)
        ours.drop("mlp", 1, 0.875, 12.5)
        assert not (run.out_dir / "checkpoints/seed3/mlp_1").exists()
        assert ours.record("mlp", 1) == {"val_accuracy": 0.875, "seconds": 12.5}
        assert ours.record("mlp", 0) is None and ours.record("ae_set", 1) is None
        assert SeedCheckpoints(run, "another", 3, resume=True).record("mlp", 1) is None
        assert SeedCheckpoints(run, "experiment", 3, resume=False).record("mlp", 1) is None
        ours.clear()
        assert not (run.out_dir / "checkpoints/seed3").exists()
        run.leave_incomplete()


SMALL = (
    *TINY_CLASSIFY,
    "classify.seeds=[0]",
    "classify.tune.enabled=true",
    "classify.tune.epochs=[1]",
    "classify.tune.dropout=[0.0,0.2]",
    "classify.tune.weight_decay=[0.0]",
)


@pytest.mark.slow
def test_a_run_killed_inside_a_seed_reads_back_its_finished_models(mnist_root, tmp_path, monkeypatch):
    from helpers.stages import run_stage

    whole = tmp_path / "whole"
    run_stage("classify", *SMALL, out=whole)
    killed = tmp_path / "killed"
    score = train_models.val_accuracy

    def dies_at_the_last_model(kind, model, val, batch):
        if kind == "mlp_matched":
            raise KeyboardInterrupt
        return score(kind, model, val, batch)

    monkeypatch.setattr(train_models, "val_accuracy", dies_at_the_last_model)
    with pytest.raises(KeyboardInterrupt):
        run_stage("classify", *SMALL, out=killed)
    monkeypatch.setattr(train_models, "val_accuracy", score)
    seed0 = killed / "checkpoints" / "seed0"
    # each finished kind: the best of its two recipes kept, the other a record; the last one trained
    for kind in ("ae_set", "mlp"):
        assert len(list(seed0.glob(f"{kind}_[0-9]/checkpoints/step_*.pt"))) == 1
        assert len(list(seed0.glob(f"{kind}_[0-9].pt"))) == 1
    assert len(list(seed0.glob("mlp_matched_0/checkpoints/step_*.pt"))) == 1

    from sla_cli.classify import adam_loop

    fit, resumed_at = adam_loop.fit, []

    def recording_fit(model, batches, loss, schedule, *, steps, resume_from=None, **kw):
        resumed_at.append((resume_from or {}).get("step", 0) == steps)
        return fit(model, batches, loss, schedule, steps=steps, resume_from=resume_from, **kw)

    monkeypatch.setattr(adam_loop, "fit", recording_fit)
    run_stage("classify", *SMALL, out=killed)
    # trained again: mlp_matched's second recipe only; the kept set and MLPs and the first matched MLP read back
    assert resumed_at == [True, True, True, False]
    ours, theirs = (json.loads((f / "results.json").read_text()) for f in (killed, whole))
    for part in ("ae_set", "mlp", "mlp_matched", "tuning"):
        assert ours[part] == theirs[part], part
    assert not (killed / "checkpoints").exists()


def test_density_class_models_killed_at_class_5_read_back_the_first_five(tmp_path, monkeypatch):
    from helpers.bands import bands_data
    from helpers.stages import compose
    from sla_cli.classify import density_classifier

    cfg = compose(
        "classify",
        "preset=smoke",
        "classify.density_classifier=made",
        "classify.density.epochs=2",
        "classify.density.lr=0.01",
        "classify.ood.n=20",
    )
    data, cpu = bands_data(), torch.device("cpu")
    torch.manual_seed(0)
    straight = density_classifier.evaluate(cfg, 0, data, cpu)
    fit, resumed = density_classifier.fit, []

    def dies_at_class_5(name, *args, **kw):
        if name.endswith("class 5"):
            raise KeyboardInterrupt
        return fit(name, *args, **kw)

    def recording(name, *args, **kw):
        resumed.append(kw["resume"])
        return fit(name, *args, **kw)

    for patched in (dies_at_class_5, recording):
        monkeypatch.setattr(density_classifier, "fit", patched)
        torch.manual_seed(0)

        def evaluate(run):
            return density_classifier.evaluate(cfg, 0, data, cpu, SeedCheckpoints(run, "experiment", 0, resume=True))

        if patched is dies_at_class_5:
            with pytest.raises(KeyboardInterrupt):
                _in_run(tmp_path, evaluate)
            assert sorted(p.name for p in (tmp_path / "checkpoints/seed0").iterdir()) == [
                f"made_class{c}" for c in range(5)
            ]
        else:
            ours = _in_run(tmp_path, evaluate)
    assert resumed == [True] * 5 + [False] * 5
    for part in ("accuracy", "val_accuracy", "ood", "class_models"):
        assert ours[part] == straight[part], part
