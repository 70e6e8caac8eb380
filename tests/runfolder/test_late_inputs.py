"""Issue 27, item 2 and "failed generate-cubes runs leave arrays behind": every input is read before
the first write, so a late input error never costs the finished dataset run.overwrite=true would replace;
a run that fails after writing leaves none of its listed files."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from omegaconf import OmegaConf

from helpers.stages import run_stage
from sla_cli import runfolder
from sla_cli.errors import USER_ERRORS, DataError
from sla_cli.generate_cubes import stage as cubes_stage

SMALL = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "digits.train=20",
    "digits.test=10",
    "cubes.count=4",
    "render.size=16",
    "contexts.n_side=2",
    "contexts.n_top=2",
)


@pytest.mark.slow
def test_a_corrupt_mnist_test_file_leaves_the_overwritten_dataset_complete(tmp_path, smoke_dataset, mnist_root):
    out = tmp_path / "dataset"
    shutil.copytree(smoke_dataset, out)
    old = runfolder.read_manifest(out, "dataset")
    bad_root = tmp_path / "mnist"
    (bad_root / "MNIST" / "raw").mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (bad_root / "MNIST" / "raw" / name).symlink_to(mnist_root / "MNIST" / "raw" / name)
    with gzip.open(bad_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + b"\x00" * 100)  # the right magic, cut short
    with pytest.raises(USER_ERRORS, match="t10k-images-idx3-ubyte.gz holds 0x0 images"):
        run_stage("generate-cubes", *SMALL, f"run.data_root={bad_root}", "run.overwrite=true", out=out)
    assert runfolder.read_manifest(out, "dataset") == old
    runfolder.verify_files(out, old)


@pytest.mark.slow
def test_a_run_that_fails_after_writing_leaves_none_of_its_arrays(tmp_path, mnist_root, monkeypatch):
    def fail(*args, **kwargs):
        raise DataError("a failure after the digit arrays are written")

    monkeypatch.setattr(cubes_stage, "_write_cube_sets", fail)
    out = tmp_path / "dataset"
    with pytest.raises(DataError, match="after the digit arrays"):
        run_stage("generate-cubes", *SMALL, f"run.data_root={mnist_root}", out=out)
    assert not out.exists()


def test_a_failed_run_removes_what_it_listed_and_keeps_its_checkpoints(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(DataError):
        with runfolder.Run(out, "model", OmegaConf.create({"seed": 0})) as run:
            runfolder.save_npy(run.unlisted_path("checkpoints/step_00000010.pt"), np.arange(3))
            run.save_json("metrics.json", {})
            raise DataError("loss became nan")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "checkpoints",
        "checkpoints/step_00000010.pt",
        "config.yaml",
    ]
