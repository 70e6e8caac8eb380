"""Issue 9, while stages run (in-process): corruption of what a stage reads, overwrite of a finished
model that fails before writing, resume by default, and a full disk during generate-cubes and train."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import torch

from helpers.stages import run_stage
from helpers.tiny_dataset import make_dataset
from sla_cli import runfolder
from sla_cli.errors import ConfigError, DataError
from sla_cli.training import checkpoint

TINY = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "train.steps=10",
    "run.log_every=5",
    "run.checkpoint_every=5",
    "metrics.test_digits=20",
    "metrics.latent_digits=10",
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("data") / "cubes", mnist_root, n_train=100, n_test=30)


@pytest.fixture(scope="module")
def model(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model"
    run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={out}")
    return out


def flip_a_byte(path, where=-7):
    data = bytearray(path.read_bytes())
    data[where] ^= 0x40
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_a_flipped_byte_in_the_training_images_is_caught(dataset, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(dataset, bad)
    flip_a_byte(bad / "train_images.npy")
    with pytest.raises(DataError, match="train_images.npy does not match its sha256"):
        run_stage("train", *TINY, f"dataset_dir={bad}", f"run.out={tmp_path / 'out'}")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_tampered_model_is_caught_on_the_nothing_to_do_path(model, dataset, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={copy}")  # the same run: nothing to do
    flip_a_byte(copy / "model.pt", 100)
    with pytest.raises(DataError, match="model.pt does not match its sha256"):
        run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={copy}")


@pytest.mark.slow
def test_overwrite_that_fails_its_checks_keeps_the_finished_model(model, dataset, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    before = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="model.hidden"):  # memory it cannot have: refused before writing
        run_stage("train", *TINY, f"dataset_dir={dataset}", "run.overwrite=true", "model.hidden=100000000", out=copy)
    with pytest.raises(DataError, match="does not exist"):
        run_stage("train", *TINY, f"dataset_dir={tmp_path / 'nowhere'}", "run.overwrite=true", out=copy)
    after = {p.relative_to(copy): p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    assert after == before
    runfolder.verify_files(copy, runfolder.read_manifest(copy, "model"))


@pytest.mark.slow
def test_overwrite_replaces_the_old_checkpoints_with_its_own(model, dataset, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(model, copy)
    assert [s for s, _ in checkpoint.list_checkpoints(copy)] == [5, 10]
    run_stage(
        "train",
        *TINY,
        f"dataset_dir={dataset}",
        f"run.out={copy}",
        "run.overwrite=true",
        "train.steps=4",
        "run.checkpoint_every=2",
        "run.log_every=2",
    )
    assert [s for s, _ in checkpoint.list_checkpoints(copy)] == [2, 4]  # step 10's of the old run is gone
    manifest = runfolder.read_manifest(copy, "model")
    assert manifest["config"]["train"]["steps"] == 4
    runfolder.verify_files(copy, manifest)


@pytest.mark.slow
def test_rerunning_a_stopped_run_resumes_by_default(dataset, tmp_path, capsys):
    out = tmp_path / "model"
    run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={out}", "run.stop_after=5")
    assert not (out / "manifest.json").exists()
    capsys.readouterr()
    run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={out}")  # the same command: `make demo` again
    said = [line for line in capsys.readouterr().err.splitlines() if "resuming" in line]
    assert len(said) == 1 and "from step 5" in said[0]
    assert json.loads((out / "metrics.json").read_text())["steps"] == 10
    runfolder.verify_files(out, runfolder.read_manifest(out, "model"))


# -- a full disk (a small tmpfs: needs root; skipped elsewhere) ---------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    mounted = []

    def mount(size: str):
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        if (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
            ).returncode
            != 0
        ):
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


def no_temporaries(folder):
    return not [p for p in folder.rglob("*") if runfolder.atomic.TEMP.match(p.name)]


def test_disk_full_during_a_write_is_one_line_and_leaves_no_partial_file(small_disk):
    disk = small_disk("64k")
    runfolder.write_text(disk / "old.txt", "kept")
    with pytest.raises(DataError, match=f"no space left in {disk} for big.txt: more than the .* bytes written needed"):
        with runfolder.atomic_path(disk / "big.txt") as tmp:  # size not known up front
            tmp.write_bytes(b"x" * 200_000)
    with pytest.raises(DataError, match=f"no space left in {disk} for a.npy: 404,096 bytes needed"):
        runfolder.save_npy(disk / "a.npy", torch.zeros(100_000).numpy())  # known: refused before writing
    assert sorted(p.name for p in disk.iterdir()) == ["old.txt"]
    assert (disk / "old.txt").read_text() == "kept"


@pytest.mark.slow
def test_disk_full_during_train_keeps_the_last_checkpoint(dataset, small_disk):
    disk = small_disk("4m")  # one checkpoint of this model (~2.4 MB with Adam's state) fits, two do not
    out = disk / "model"
    with pytest.raises(DataError, match=f"no space left in {out}/checkpoints for step_00000010.pt: .* bytes needed"):
        run_stage("train", *TINY, f"dataset_dir={dataset}", f"run.out={out}")
    assert [s for s, _ in checkpoint.list_checkpoints(out)] == [5]
    assert checkpoint.load(checkpoint.path_for(out, 5))["step"] == 5
    assert no_temporaries(out) and not (out / "manifest.json").exists()


@pytest.mark.slow
def test_disk_full_during_generate_cubes_is_one_line(small_disk, mnist_root):
    disk = small_disk("3m")  # the train images (2.9 MB) fit, the test images do not
    out = disk / "dataset"
    with pytest.raises(DataError, match=f"no space left in {out} for test_images.npy: .* bytes needed"):
        run_stage(
            "generate-cubes",
            "preset=smoke",
            "run.device=cpu",
            "run.threads=1",
            f"run.data_root={mnist_root}",
            "digits.train=50",
            "digits.test=20",
            "cubes.count=8",
            out=out,
        )
    assert no_temporaries(out) and not (out / "manifest.json").exists()
