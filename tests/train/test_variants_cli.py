"""`sla train preset=smoke train.variant=...` end to end: each of the one-shot stage's trained baselines
beats a trivial floor on held-out digits and writes an ordinary model folder saying what it is."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from helpers.cli import run_sla
from helpers.tiny_dataset import SINGLE_THREAD_ENV, make_dataset
from sla_cli import runfolder

pytestmark = pytest.mark.slow  # every test here runs `sla train` in a subprocess


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("data") / "cubes", mnist_root)


def _train(dataset, out, variant):
    result = run_sla(
        "train",
        "preset=smoke",
        f"dataset_dir={dataset}",
        f"run.out={out}",
        "run.device=cpu",
        f"train.variant={variant}",
        env=SINGLE_THREAD_ENV,
    )
    assert result.returncode == 0, result.stderr
    manifest = runfolder.read_manifest(out, "model")
    saved = torch.load(runfolder.verify_file(out, manifest, "model.pt"), weights_only=True)
    assert manifest["variant"] == saved["variant"] == saved["config"]["variant"] == variant
    assert manifest["config"]["train"]["variant"] == variant
    budget = manifest["budget"]
    assert budget["steps"] == 400 and budget["digits_per_step"] == 16 and budget["train_flops"] > 0
    return json.loads((out / "metrics.json").read_text()), saved


def test_shared_autoencoder_beats_the_mean_image(dataset, tmp_path):
    out = tmp_path / "shared_ae"
    m, saved = _train(dataset, out, "shared_ae")
    # one member's weights serve the 12 contexts
    assert saved["state_dict"]["enc1_w"].shape[0] == 1 and saved["config"]["n_members"] == 12
    assert m["test_self_mse"] < 0.9 * m["mean_image_mse"], m
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert list(rows[0]) == ["step", "self_loss", "train_seconds"]  # self steps only
    assert float(rows[-1]["self_loss"]) < float(rows[0]["self_loss"])
    for name in ("transfer.png", "curves.png"):
        assert (out / name).stat().st_size > 1000


def test_contrastive_encoders_pair_held_out_digits_across_contexts(dataset, tmp_path):
    out = tmp_path / "contrastive"
    m, saved = _train(dataset, out, "contrastive")
    assert all(k.startswith("enc") for k in saved["state_dict"])  # encoders only
    assert m["chance_infonce_loss"] == pytest.approx(math.log(16))
    assert m["test_infonce_loss"] < 0.5 * m["chance_infonce_loss"], m
    # held-out digits: the same digit in two contexts is closer than two digits
    assert m["test_positive_cosine"] > m["test_negative_cosine"] + 0.3, m
    assert m["test_pair_retrieval_accuracy"] > 4 / 16, m  # chance: 1/16
    assert m["latent_distance_ratio"] > 1.5, m
    assert "test_self_mse" not in m
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert list(rows[0]) == ["step", "contrastive_loss", "train_seconds"]
    assert float(rows[-1]["contrastive_loss"]) < float(rows[0]["contrastive_loss"])
    assert not (out / "transfer.png").exists() and (out / "curves.png").stat().st_size > 1000  # nothing decodes
