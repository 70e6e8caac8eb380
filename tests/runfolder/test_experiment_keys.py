"""One definition of the keys that are not part of the experiment (sla_cli/runfolder/experiment.py),
and every reader agreeing with it: the manifest identity, `sla report`, `sla aggregate`, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder
from sla_cli.aggregate import summarize
from sla_cli.aggregate.collect import RunFolder as SweepRun
from sla_cli.report import collect as report_collect
from sla_cli.runfolder.experiment import differences, experiment, identity, is_how_to_run

CONFIG = {
    "seed": 0,
    "out": "a",
    "overwrite": False,
    "device": "cpu",
    "threads": 1,
    "precision": "auto",
    "preset": "smoke",
    "data": {"root": "/data", "download": False},
    "train": {
        "lr": 0.1,
        "steps": 10,
        "resume": "auto",
        "stop_after": 0,
        "keep_checkpoints": 2,
        "checkpoint_every": 5,
        "log_every": 5,
    },
    "density": {"model": "made", "resume": "auto", "stop_after": 0, "keep_checkpoints": 2},
    "classify": {"seeds": [0], "train": {"epochs": 1}},
}
HOW = {
    "out": "b",
    "overwrite": True,
    "device": "cuda",
    "threads": 8,
    "precision": "bf16",
    "data.root": "/elsewhere",
    "data.download": True,
    "train.resume": True,
    "train.stop_after": 3,
    "train.keep_checkpoints": 5,
    "train.checkpoint_every": 1,
    "train.log_every": 1,
    "density.resume": False,
    "density.stop_after": 1,
    "density.keep_checkpoints": 9,
}
WHAT = {"preset": "demo", "train.lr": 0.2, "train.steps": 11, "density.model": "vae", "classify.train.epochs": 2}


def changed(key: str, value) -> dict:
    config = json.loads(json.dumps(CONFIG))
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    return config


def readers(config: dict) -> tuple:
    """What each reader takes to be the experiment (seed included, or not, as each needs)."""
    return (
        identity(config),
        json.dumps(report_collect._experiment({"config": config}), sort_keys=True),
        json.dumps(
            summarize._experiment(SweepRun(path=None, complete=True, kind="model", config=config)), sort_keys=True
        ),
    )


@pytest.mark.parametrize("key, value", HOW.items())
def test_every_how_to_run_key_leaves_every_reader_unchanged(key, value):
    assert is_how_to_run(key)
    assert readers(changed(key, value)) == readers(CONFIG)


@pytest.mark.parametrize("key, value", WHAT.items())
def test_every_other_key_changes_every_reader(key, value):
    assert not is_how_to_run(key)
    assert all(a != b for a, b in zip(readers(changed(key, value)), readers(CONFIG), strict=True))


def test_the_seed_is_the_experiment_but_averaged_over():
    other = changed("seed", 1)
    assert identity(other) != identity(CONFIG)
    assert readers(other)[1:] == readers(CONFIG)[1:]
    assert experiment(changed("classify.seeds", [1]), less_seed=True) == experiment(CONFIG, less_seed=True)


def test_a_run_recorded_under_an_older_identity_is_still_the_same_run(tmp_path):
    """The identity is recomputed from the old manifest's config, so changing the definition never
    turns a finished run into "a different run" that only overwrite=true gets past."""
    cfg = OmegaConf.create({**CONFIG, "overwrite": False})
    with runfolder.Run(tmp_path, "model", cfg) as run:
        run.save_npy("a.npy", np.arange(3))
    manifest = json.loads((tmp_path / runfolder.MANIFEST).read_text())
    manifest["identity"] = "written-by-an-older-sla"
    (tmp_path / runfolder.MANIFEST).write_text(json.dumps(manifest))
    again = OmegaConf.create(changed("train.log_every", 1))  # a how-to-run key changed too
    with runfolder.Run(tmp_path, "model", again) as run:
        assert run.complete


OLD = {
    **CONFIG,
    "eval": {"test_digits": 5},
    "classify": {"members": "ae", "model": {"hidden": 8}, "member": {"epochs": 2}},
}
NEW = {
    **CONFIG,
    "metrics": {"test_digits": 5},
    "classify": {"density_classifier": "none", "autoencoder": {"hidden": 8}, "density": {"epochs": 2}},
}


def test_a_renamed_key_is_the_same_experiment_under_either_spelling():
    """classify.members=ae -> density_classifier=none, member -> density, model -> autoencoder, train's
    eval -> metrics: a folder made before the renames is the same run for every reader."""
    assert readers(NEW) == readers(OLD)
    made = json.loads(json.dumps(NEW))
    made["classify"]["density_classifier"] = "made"
    assert identity(made) != identity(NEW)
    text = differences(OLD, made)
    assert text == "classify.density_classifier: none -> made"  # a message names today's spelling
