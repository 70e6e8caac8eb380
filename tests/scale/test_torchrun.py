"""torchrun on CPU (gloo, 2 processes): the same numbers as one process with the same global batch.

Each rank trains on its slice of every batch and the gradients are all-reduced, so the two-process
model must equal the one-process model up to float rounding; rank 0 alone writes the folder, and a
two-process run continues a one-process run's checkpoint (resume under torchrun).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from helpers.cli import REPO
from helpers.stages import run_stage
from helpers.tiny_dataset import SINGLE_THREAD_ENV, make_dataset

pytestmark = pytest.mark.slow

TRAIN = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "train.steps=12",
    "run.checkpoint_every=6",
    "run.log_every=3",
    "metrics.test_digits=20",
    "metrics.latent_digits=10",
)
CLASSIFY = (
    "preset=smoke",
    "run.device=cpu",
    "run.threads=1",
    "classify.train_size=200",
    "classify.val_size=50",
    "classify.test_size=50",
    "classify.train.epochs=1",
    "classify.full.stats_per_class=10",
    "classify.calibrate.steps=5",
    "classify.ood.n=10",
    "classify.adversarial.n=10",
    "classify.adversarial.batch=10",
    "classify.adversarial.pgd_steps=1",
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, mnist_root):
    return make_dataset(tmp_path_factory.mktemp("ds"), mnist_root, n_contexts=4, size=12, n_train=64, n_test=32)


def torchrun(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`torchrun --nproc_per_node=2 -m sla_cli ARGS`, its scratch folders under tmp_path/tmp."""
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {**SINGLE_THREAD_ENV, "PYTHONPATH": str(REPO), "TMPDIR": str(scratch)}
    import os

    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "sla_cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(scratch.glob("sla-rank*")), "ranks > 0 left their scratch folders behind"
    return result


def numbers(obj, prefix=""):
    """Numeric leaves of a JSON object as {dotted.key: float}."""
    if isinstance(obj, dict):
        return {k: v for key, sub in obj.items() for k, v in numbers(sub, f"{prefix}{key}.").items()}
    if isinstance(obj, list):
        return {k: v for i, sub in enumerate(obj) for k, v in numbers(sub, f"{prefix}{i}.").items()}
    return {prefix[:-1]: float(obj)} if isinstance(obj, (int, float)) and not isinstance(obj, bool) else {}


def assert_same_numbers(one: dict, two: dict, skip=("seconds", "world_size")) -> None:
    a, b = numbers(one), numbers(two)
    assert a.keys() == b.keys()
    for key in a:
        if not any(s in key for s in skip):
            assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-5), key


def test_two_process_train_resumes_a_checkpoint_and_matches_one_process(dataset, tmp_path):
    single, split = tmp_path / "single", tmp_path / "split"
    run_stage("train", f"dataset_dir={dataset}", *TRAIN, out=single)
    run_stage("train", f"dataset_dir={dataset}", *TRAIN, "run.stop_after=6", out=split)  # killed at step 6
    assert not (split / "manifest.json").exists()
    result = torchrun(tmp_path, "train", f"dataset_dir={dataset}", *TRAIN, "run.resume=true", f"run.out={split}")
    assert "from step 6" in result.stderr
    assert result.stderr.count("sla train:") == 1  # rank 0 alone prints the table

    one, two = (json.loads((d / "metrics.json").read_text()) for d in (single, split))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert_same_numbers(one, two)
    a, b = (torch.load(d / "model.pt", weights_only=True)["state_dict"] for d in (single, split))
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-6)
    rows = [(d / "metrics.csv").read_text().splitlines()[1:] for d in (single, split)]
    for r1, r2 in zip(*rows, strict=True):  # the logged losses are the global batch's, not rank 0's slice
        assert [float(x) for x in r2.split(",")[1:3]] == pytest.approx([float(x) for x in r1.split(",")[1:3]], rel=1e-5)
    assert sorted(p.name for p in (split / "checkpoints").iterdir()) == ["step_00000006.pt", "step_00000012.pt"]


def test_two_process_classify_matches_one_process(mnist_root, tmp_path):
    single, split = tmp_path / "single", tmp_path / "split"
    run_stage("classify", *CLASSIFY, f"run.data_root={mnist_root}", out=single)
    torchrun(tmp_path, "classify", *CLASSIFY, f"run.data_root={mnist_root}", f"run.out={split}")
    one, two = (json.loads((d / "results.json").read_text()) for d in (single, split))
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert_same_numbers(one, two)
    assert sorted(p.name for p in split.iterdir()) == sorted(p.name for p in single.iterdir())
