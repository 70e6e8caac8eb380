"""One definition of the keys that are not part of the experiment (sla_cli/runfolder/experiment.py: the
run: block, and the spellings those keys had before it), and every reader agreeing with it: the
manifest identity, `sla report`, `sla aggregate`, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder
from sla_cli.aggregate import summarize
from sla_cli.aggregate.collect import RunFolder as SweepRun
from sla_cli.errors import DataError
from sla_cli.report import collect as report_collect
from sla_cli.runfolder.experiment import differences, experiment, identity, is_how_to_run

# A config as a folder made before run: existed records it (how-to-run keys at the top, under data:
# and in the stages' sections), and the same config today.
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
NEW_CONFIG = {
    "seed": 0,
    "run": {
        "out": "a",
        "overwrite": False,
        "device": "cpu",
        "threads": 1,
        "precision": "auto",
        "data_root": "/data",
        "download": False,
        "keep_checkpoints": 2,
        "checkpoint_every": 5,
        "log_every": 5,
    },
    "preset": "smoke",
    "train": {"lr": 0.1, "steps": 10},
    "density": {"model": "made"},
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
NEW_HOW = {
    "run.out": "b",
    "run.overwrite": True,
    "run.device": "cuda",
    "run.threads": 8,
    "run.precision": "bf16",
    "run.progress_every": 5,
    "run.logger": "tensorboard",
    "run.data_root": "/elsewhere",
    "run.download": True,
    "run.resume": True,
    "run.stop_after": 3,
    "run.keep_checkpoints": 5,
    "run.checkpoint_every": 1,
    "run.log_every": 1,
}
WHAT = {"preset": "demo", "train.lr": 0.2, "train.steps": 11, "density.model": "vae", "classify.train.epochs": 2}


def changed(key: str, value, base: dict = CONFIG) -> dict:
    config = json.loads(json.dumps(base))
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


@pytest.mark.parametrize("key, value", NEW_HOW.items())
def test_every_key_of_run_leaves_every_reader_unchanged(key, value):
    assert is_how_to_run(key)
    assert readers(changed(key, value, NEW_CONFIG)) == readers(NEW_CONFIG)


def test_a_config_with_run_is_the_same_experiment_as_the_same_config_spelt_before_run():
    """A folder made before run: existed (out, device, data.root, train.resume... where they were) is
    the same run as today's config: every reader, the seed included or not, says so."""
    assert readers(NEW_CONFIG) == readers(CONFIG)
    assert experiment(NEW_CONFIG) == experiment(CONFIG)
    assert identity(changed("train.lr", 0.2, NEW_CONFIG)) == identity(changed("train.lr", 0.2))
    # a command that reads images keeps data.source outside run: (it is the experiment)
    source = {"source": "idx:/x"}
    assert identity({**NEW_CONFIG, "data": source}) == identity({**CONFIG, "data": {**CONFIG["data"], **source}})
    assert identity({**NEW_CONFIG, "data": source}) != identity(NEW_CONFIG)


@pytest.mark.parametrize("key, value", WHAT.items())
def test_every_other_key_changes_every_reader(key, value):
    assert not is_how_to_run(key)
    assert all(a != b for a, b in zip(readers(changed(key, value)), readers(CONFIG), strict=True))
    assert all(a != b for a, b in zip(readers(changed(key, value, NEW_CONFIG)), readers(NEW_CONFIG), strict=True))


def test_the_seed_is_the_experiment_but_averaged_over():
    other = changed("seed", 1)
    assert identity(other) != identity(CONFIG)
    assert readers(other)[1:] == readers(CONFIG)[1:]
    assert experiment(changed("classify.seeds", [1]), less_seed=True) == experiment(CONFIG, less_seed=True)


def test_a_run_recorded_under_an_older_identity_is_still_the_same_run(tmp_path):
    """The identity is recomputed from the old manifest's config, so changing the definition never
    turns a finished run into "a different run" that only overwrite=true gets past."""
    cfg = OmegaConf.create(NEW_CONFIG)
    with runfolder.Run(tmp_path, "model", cfg) as run:
        run.save_npy("a.npy", np.arange(3))
    manifest = json.loads((tmp_path / runfolder.MANIFEST).read_text())
    manifest["identity"] = "written-by-an-older-sla"
    (tmp_path / runfolder.MANIFEST).write_text(json.dumps(manifest))
    again = OmegaConf.create(changed("run.log_every", 1, NEW_CONFIG))  # a how-to-run key changed too
    with runfolder.Run(tmp_path, "model", again) as run:
        assert run.complete


def test_a_folder_recorded_before_run_existed_is_the_same_run_today(tmp_path):
    """A manifest whose config has out, device, data.root, train.resume... where they were: the same
    command today (run.*) finds the run complete, and a changed experiment key is still refused."""
    with runfolder.Run(tmp_path, "model", OmegaConf.create(NEW_CONFIG)) as run:
        run.save_npy("a.npy", np.arange(3))
    manifest = json.loads((tmp_path / runfolder.MANIFEST).read_text())
    manifest["config"] = {**CONFIG, "out": str(tmp_path)}  # as an sla of before run: wrote it
    (tmp_path / runfolder.MANIFEST).write_text(json.dumps(manifest))
    with runfolder.Run(tmp_path, "model", OmegaConf.create(changed("run.threads", 4, NEW_CONFIG))) as run:
        assert run.complete
    with pytest.raises(DataError, match=r"train.lr: 0.1 -> 0.2"):
        with runfolder.Run(tmp_path, "model", OmegaConf.create(changed("train.lr", 0.2, NEW_CONFIG))):
            pass


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
