"""Issue 27: a latest checkpoint that no longer loads (cut short by a failing disk or a copy) is
passed over for the one before it, in train and density alike (``checkpoint.latest``)."""

from __future__ import annotations

import pytest
import torch

from helpers.stages import run_stage
from helpers.tiny_dataset import make_dataset
from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.training import checkpoint

TINY = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "train.steps=15",
    "run.log_every=5",
    "run.checkpoint_every=5",
    "metrics.test_digits=20",
    "metrics.latent_digits=10",
)


def cut_short(path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def test_latest_passes_over_an_unreadable_newest_checkpoint(tmp_path):
    (tmp_path / checkpoint.FOLDER).mkdir()
    for step in (1, 2):
        runfolder.save_torch(checkpoint.path_for(tmp_path, step), {"step": step})
    assert checkpoint.latest(tmp_path)[1] == {"step": 2}
    cut_short(checkpoint.path_for(tmp_path, 2))
    path, state = checkpoint.latest(tmp_path)
    assert path == checkpoint.path_for(tmp_path, 1) and state == {"step": 1}
    assert checkpoint.path_for(tmp_path, 2).exists()  # passed over, not deleted
    cut_short(checkpoint.path_for(tmp_path, 1))
    with pytest.raises(DataError, match="step_00000002.pt is not a readable checkpoint"):
        checkpoint.latest(tmp_path)
    assert checkpoint.latest(tmp_path / "none") is None


@pytest.mark.slow
def test_train_resumes_from_the_checkpoint_before_a_truncated_latest_one(tmp_path, mnist_root, capsys):
    dataset = make_dataset(tmp_path / "cubes", mnist_root, n_train=100, n_test=30)
    run_stage("train", *TINY, f"dataset_dir={dataset}", out=tmp_path / "whole")
    parts = tmp_path / "parts"
    run_stage("train", *TINY, f"dataset_dir={dataset}", "run.stop_after=10", out=parts)
    assert [s for s, _ in checkpoint.list_checkpoints(parts)] == [5, 10]
    cut_short(checkpoint.path_for(parts, 10))
    capsys.readouterr()
    run_stage("train", *TINY, f"dataset_dir={dataset}", out=parts)
    err = capsys.readouterr().err
    assert "step_00000010.pt is not a readable checkpoint" in err and "from step 5" in err
    whole, resumed = (torch.load(d / "model.pt", weights_only=True)["state_dict"] for d in (tmp_path / "whole", parts))
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)  # bit for bit, as if never interrupted
