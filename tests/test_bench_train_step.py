"""bench/flops.py counts the step's matmul FLOPs right; bench/train_step.py times every variant side by side."""

import importlib.util
from pathlib import Path

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from bench.flops import n_parameters, run_flops, step_flops
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train.loop import loss_weights, make_optimizer, random_derangement, train_step

SPEC = importlib.util.spec_from_file_location(
    "bench_train_step", Path(__file__).resolve().parents[1] / "bench" / "train_step.py"
)
bench_train_step = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_train_step)

C, D, H, L, B = 6, 40, 12, 4, 5


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", ["self", "cross"])
def test_matmul_count_matches_the_profilers(fast, kind):
    """torch.profiler counts every bmm/baddbmm the step runs (autograd's or the fast one): the same total."""
    model = AutoencoderSet(C, D, H, L)
    opt = make_optimizer(model, 1e-3, torch.device("cpu"))
    x, weight = torch.rand(C, B, D), loss_weights(torch.ones(C, 1, D))
    perm = random_derangement(C, torch.Generator().manual_seed(0))
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        train_step(model, opt, x, weight, kind, perm, fast=fast)
    counted = sum(e.flops for e in prof.key_averages() if e.key in ("aten::bmm", "aten::baddbmm"))
    assert counted == step_flops(C, D, H, L, B)["matmul"]


def test_parameter_count_is_the_models():
    assert n_parameters(C, D, H, L) == sum(p.numel() for p in AutoencoderSet(C, D, H, L).parameters())


def test_totals_add_up():
    f = step_flops(100, 1024, 128, 16, 32)
    assert f["total"] == f["matmul"] + f["loss"] + f["layers"] + f["adam"]
    assert 0.9 < f["matmul"] / f["total"] < 1  # the demo's step is matmuls, nearly all
    assert run_flops(100, 1024, 128, 16, 32, steps=2000) == 2000 * f["total"]


def test_every_variant_is_timed_in_interleaved_rounds():
    calls = []
    units = {name: (lambda name=name: calls.append(name)) for name in ("mm", "autograd", "fast")}
    times = bench_train_step.interleaved(units, rounds=3, device=torch.device("cpu"))
    assert set(times) == set(units) and all(t["wall"] >= 0 and t["cpu"] >= 0 for t in times.values())
    assert calls == ["mm", "autograd", "fast"] * 4  # a warm-up, then the same count each, round by round


def test_measure_reports_shares_and_the_speed_up():
    sizes = {"contexts": 4, "dim": 16, "latent": 2, "batch": 3, "hidden": 5}
    r = bench_train_step.measure(sizes, torch.device("cpu"), rounds=1, naive=True, show_profile=False)
    assert set(r["variants"]) == {"autograd", "fast", "naive"}
    for v in r["variants"].values():
        assert v["gflops"]["wall"] > 0 and 0 < v["share_of_peak"]["wall"] < 10
    assert r["fast_over_autograd"]["wall"] > 0 and r["naive_over_batched"] > 0
