"""The submitit launchers' requeue: a job stopped at its time limit comes back with run.resume=true
and continues from its last checkpoint instead of starting over."""

from __future__ import annotations

import pytest

from helpers.stages import compose, run_stage
from helpers.tiny_dataset import make_dataset

pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the cluster extra is not installed")
from hydra_plugins.sla_launchers.resuming import RESUME, ResumingLocalLauncher, requeue_overrides  # noqa: E402

TINY = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "train.steps=8",
    "run.checkpoint_every=4",
    "metrics.test_digits=20",
    "metrics.latent_digits=10",
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("ds"), mnist_root, n_contexts=3, size=10, n_train=40, n_test=20)


def test_requeue_adds_resume_to_train_only(dataset):
    train = compose("train", f"dataset_dir={dataset}", *TINY)
    assert requeue_overrides(train, ["seed=1", "run.resume=false"]) == ["seed=1", RESUME]
    assert requeue_overrides(train, ["seed=1"]) == ["seed=1", RESUME]
    classify = compose("classify", "preset=smoke")
    assert requeue_overrides(classify, ["seed=1"]) == ["seed=1"]  # nothing to resume: it starts again


def test_checkpoint_hook_requeues_the_same_job_with_resume(dataset):
    launcher = ResumingLocalLauncher(submitit_folder="unused", timeout_min=1)
    launcher.config = compose("train", f"dataset_dir={dataset}", *TINY)
    delayed = launcher.checkpoint(["seed=3", "train.steps=8"], "hydra.sweep.dir", 2, "job_id_for_2", {})
    assert delayed.function is launcher  # submitit calls the launcher again: the same job number and folder
    assert delayed.args == (["seed=3", "train.steps=8", RESUME], "hydra.sweep.dir", 2, "job_id_for_2", {})


@pytest.mark.slow
def test_the_requeued_job_continues_from_the_last_checkpoint(dataset, tmp_path, capsys):
    job = [f"dataset_dir={dataset}", *TINY]
    run_stage("train", *job, "run.stop_after=4", out=tmp_path)  # the job, stopped at its time limit
    assert not (tmp_path / "manifest.json").exists()
    capsys.readouterr()
    run_stage("train", *requeue_overrides(compose("train", *job), job), out=tmp_path)
    assert "resuming the unfinished run" in (err := capsys.readouterr().err) and "from step 4" in err
    assert (tmp_path / "manifest.json").exists()
