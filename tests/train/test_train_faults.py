"""`sla train` under interruption and bad input: bit-for-bit resume, NaN stop, refused datasets."""

from __future__ import annotations

import csv
import json
import re

import pytest
import torch

from helpers.cli import assert_one_line_error, run_sla
from helpers.stages import run_stage
from helpers.tiny_dataset import SINGLE_THREAD_ENV, make_dataset
from sla_cli.errors import DataError
from sla_cli.training import checkpoint

SHORT = ("preset=smoke", "run.device=cpu", "train.steps=60", "run.log_every=10", "run.checkpoint_every=20")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("data") / "cubes", mnist_root, n_train=200, n_test=50)


@pytest.fixture(scope="module")
def other_dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("data") / "other", mnist_root, n_train=200, n_test=50, seed=1)


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here: one thread (conftest's one_thread)."""


def weights(out):
    return torch.load(out / "model.pt", weights_only=True)["state_dict"]


def losses(out):
    return [(r["step"], r["self_loss"], r["cross_loss"]) for r in csv.DictReader((out / "metrics.csv").open())]


@pytest.mark.slow
def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(dataset, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={straight}")
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={resumed}", "run.stop_after=30")
    assert not (resumed / "manifest.json").exists() and not (resumed / "model.pt").exists()
    assert [s for s, _ in checkpoint.list_checkpoints(resumed)] == [20, 30]
    # a kill while the next checkpoint was being written leaves only a temporary file behind
    (resumed / "checkpoints" / ".step_00000040.pt.tmp-999").write_bytes(b"half a checkpoint")
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={resumed}", "run.resume=true")
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    assert losses(straight) == losses(resumed)
    # a resumed run is the same run: same identity in its manifest
    ids = [json.loads((d / "manifest.json").read_text())["identity"] for d in (straight, resumed)]
    assert ids[0] == ids[1]


@pytest.mark.slow
def test_resume_refuses_a_model_folder_from_another_dataset(dataset, other_dataset, tmp_path):
    out = tmp_path / "model"
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={out}", "run.stop_after=20")
    result = run_sla(
        "train", *SHORT, f"dataset_dir={other_dataset}", f"run.out={out}", "run.resume=true", env=SINGLE_THREAD_ENV
    )
    assert_one_line_error(result, "another dataset", code=1)
    assert [s for s, _ in checkpoint.list_checkpoints(out)] == [20]  # nothing lost


@pytest.mark.slow
def test_an_unfinished_run_is_not_restarted_silently(dataset, tmp_path):
    out = tmp_path / "model"
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={out}", "run.stop_after=20")
    with pytest.raises(DataError, match="run.resume=false"):
        run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={out}", "run.resume=false")
    assert [s for s, _ in checkpoint.list_checkpoints(out)] == [20]


@pytest.mark.slow
def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(dataset, tmp_path):
    out = tmp_path / "model"
    result = run_sla(
        "train",
        *SHORT,
        f"dataset_dir={dataset}",
        f"run.out={out}",
        "train.lr=1e30",
        "run.log_every=1",
        "run.checkpoint_every=1",
        env=SINGLE_THREAD_ENV,
    )
    assert_one_line_error(result, "loss became", "at step", code=1)
    step = int(re.search(r"at step (\d+)", result.stderr).group(1))
    kept = checkpoint.list_checkpoints(out)
    assert kept and kept[-1][0] == step - 1
    state = checkpoint.load(kept[-1][1])
    assert all(torch.isfinite(v).all() for v in state["model"].values())
    assert not (out / "manifest.json").exists() and not (out / "model.pt").exists()


@pytest.mark.slow
def test_dataset_folder_without_manifest(dataset, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("train_images.npy", "masks.npy"):
        (broken / name).write_bytes((dataset / name).read_bytes())
    out = tmp_path / "model"
    result = run_sla("train", *SHORT, f"dataset_dir={broken}", f"run.out={out}", env=SINGLE_THREAD_ENV)
    assert_one_line_error(result, "no manifest.json", code=1)
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, fragment, code",
    [
        (("dataset_dir=/nonexistent/cubes",), "does not exist", 1),
        ((), "dataset_dir=DIR is required", 2),
        (("dataset_dir=x", "train.schedule=sometimes"), "train.schedule", 2),
        (("dataset_dir=x", "train.lr=0"), "train.lr", 2),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, fragment, code):
    result = run_sla("train", "preset=smoke", f"run.out={tmp_path / 'model'}", *args, env=SINGLE_THREAD_ENV)
    assert_one_line_error(result, fragment, code=code)
    assert not (tmp_path / "model").exists()


@pytest.mark.slow
def test_a_model_folder_is_not_a_dataset(dataset, tmp_path):
    model = tmp_path / "model"
    run_stage("train", *SHORT, f"dataset_dir={dataset}", f"run.out={model}", "train.steps=5", "run.log_every=5")
    result = run_sla("train", *SHORT, f"dataset_dir={model}", f"run.out={tmp_path / 'again'}", env=SINGLE_THREAD_ENV)
    assert_one_line_error(result, "not a dataset", code=1)
