"""The CUDA paths, on a GPU: skipped where no CUDA device is visible (CI); `make gpu-check` runs them.

- generate-cubes' CUDA renderer (one grid_sample) against the sparse operator the CPU uses;
- `sla train` and `sla classify` in bf16 autocast on CUDA (run.precision=auto), learning;
- `sla train` killed and resumed on CUDA ends where the uninterrupted run ends.
"""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from data_gen.geometry import Camera, make_contexts
from data_gen.render import SparseRenderer, context_grids, render_grid_sample
from helpers.stages import run_stage
from helpers.tiny_dataset import make_dataset
from sla_cli.runfolder import load_torch
from sla_cli.training import checkpoint

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

# Resumed against uninterrupted: each weight tensor within this relative distance (|a - b| / |a|, Frobenius).
# On CPU the two are bit for bit equal (tests/train/test_train_faults.py); on CUDA the same kernels in the
# same order usually are too, but cuBLAS does not promise it for bf16. Twenty steps of training move the
# weights by far more than this (the test checks that too), so a lost or repeated step still fails.
RESUME_RTOL = 1e-3


@pytest.mark.parametrize("supersample", [1, 2])
def test_cuda_grid_sample_renderer_matches_the_sparse_one(mnist_root, supersample):
    from data_gen.mnist import load_split

    camera = Camera(30.0, 4.0, 28.0, 48)  # the paper's frame
    grids = context_grids(camera, make_contexts(camera, 34, 66), supersample)
    digits = torch.from_numpy(load_split(mnist_root, "test")[0][:64].copy())
    on_cuda = render_grid_sample(digits.cuda(), grids.cuda(), supersample).cpu()
    sparse = SparseRenderer(grids, supersample)(digits)
    assert on_cuda.shape == sparse.shape == (64, 100, 48, 48)
    diff = (on_cuda.int() - sparse.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 1e-3  # float summation order only
    assert sparse.float().sum() > 0


def test_train_learns_in_bf16_on_cuda(smoke_dataset, tmp_path):
    run_stage("train", "preset=smoke", f"dataset_dir={smoke_dataset}", "run.device=cuda", out=tmp_path)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["device"].startswith("cuda")
    assert all(math.isfinite(v) for v in metrics.values() if isinstance(v, float))
    assert metrics["test_cross_mse"] < metrics["mean_image_mse"]


def test_classify_runs_in_bf16_on_cuda(mnist_root, tmp_path):
    run_stage(
        "classify",
        "preset=smoke",
        f"run.data_root={mnist_root}",
        "classify.train.epochs=1",
        "run.device=cuda",
        out=tmp_path,
    )
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["device"].startswith("cuda")
    assert results["mlp"]["accuracy"] > 0.5
    assert all(results["ae_set"][s]["accuracy"] > 0.5 for s in ("recon", "full", "calibrated"))


def _relative(a: dict, b: dict) -> dict[str, float]:
    return {k: float((a[k].float() - b[k].float()).norm() / a[k].float().norm().clamp_min(1e-12)) for k in a}


def test_resume_on_cuda_ends_where_the_uninterrupted_run_ends(mnist_root, tmp_path):
    dataset = make_dataset(tmp_path / "data", mnist_root, n_train=200, n_test=50)
    short = (
        "preset=smoke",
        "run.device=cuda",
        "train.steps=60",
        "run.log_every=10",
        "run.checkpoint_every=20",
        f"dataset_dir={dataset}",
    )
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    run_stage("train", *short, out=straight)
    run_stage("train", *short, "run.stop_after=30", out=resumed)
    run_stage("train", *short, "run.resume=true", out=resumed)
    final = {d: torch.load(d / "model.pt", weights_only=True)["state_dict"] for d in (straight, resumed)}
    distance = _relative(final[straight], final[resumed])
    assert max(distance.values()) <= RESUME_RTOL, distance
    step40 = load_torch(dict(checkpoint.list_checkpoints(straight))[40])["model"]
    moved = _relative(final[straight], {k: v.cpu() for k, v in step40.items()})
    assert min(moved[k] for k in ("enc1_w", "enc2_w")) > 10 * RESUME_RTOL, moved  # the tolerance tells steps apart

    def losses(d):
        rows = csv.DictReader((d / "metrics.csv").open())
        return [[float(x or 0) for x in (r["self_loss"], r["cross_loss"])] for r in rows]

    assert torch.allclose(torch.tensor(losses(straight)), torch.tensor(losses(resumed)), rtol=RESUME_RTOL)


def test_cubes_painted_on_cuda_match_the_cpu(mnist_root):
    """The painted cubes' grids are computed on the GPU there (data_gen.render._grids_on_device)."""
    import numpy as np

    from data_gen.cubes import paint_cubes
    from data_gen.mnist import load_split

    camera = Camera(30.0, 4.0, 28.0, 48)
    faces = torch.from_numpy(load_split(mnist_root, "test")[0][:96].copy()).view(32, 3, 28, 28)
    yaws = np.random.default_rng(0).uniform(0.0, 90.0, 32)
    on_cpu = paint_cubes(faces, yaws, camera, 2, "cpu").int()
    on_cuda = paint_cubes(faces, yaws, camera, 2, "cuda").cpu().int()
    assert (on_cuda - on_cpu).abs().max() <= 1  # uint8 levels: rounding of float sums may differ by one
