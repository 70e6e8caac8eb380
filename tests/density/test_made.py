"""MADE: the autoregressive property for several orderings and connectivities, and an ensemble
that is a normalized distribution (sums to 1 over all 2^D inputs of a tiny D)."""

from __future__ import annotations

import itertools

import pytest
import torch

from sla_cli.density.models.made import Made


def _perturbation_check(made: Made, k: int, d: int) -> None:
    """Output d's logit must not move when any input at or after d in mask k's order changes."""
    position = torch.empty(d, dtype=torch.long)
    position[made.order(k)] = torch.arange(d)
    gen = torch.Generator().manual_seed(k)
    x = torch.bernoulli(torch.full((16, d), 0.5), generator=gen)
    base = made(x, k)
    for i in range(d):
        later = position >= position[i]  # pixel i itself and everything after it
        flipped = x.clone()
        flipped[:, later] = 1 - flipped[:, later]
        moved = made(flipped, k)
        assert torch.equal(base[:, i], moved[:, i]), (k, i)


@pytest.mark.parametrize("direct", [False, True])
def test_autoregressive_for_several_orderings(direct):
    d = 9
    torch.manual_seed(0)
    made = Made(d, [20, 15], n_masks=4, order_agnostic=True, connectivity_agnostic=True, direct=direct, seed=3)
    orders = {tuple(made.order(k).tolist()) for k in range(4)}
    assert len(orders) == 4  # really several orderings
    with torch.no_grad():
        for layer in made.layers:  # large weights: a leak would show, not vanish in a ReLU
            layer.weight.normal_(0, 1)
        for k in range(4):
            _perturbation_check(made, k, d)


def test_first_pixel_is_unconditional_and_each_output_sees_every_earlier_pixel():
    """A mask that only drops connections would pass the check above by cutting everything; with a
    wide hidden layer and the direct connection every earlier pixel must actually reach output d."""
    d = 6
    made = Made(d, [64], n_masks=1, direct=True, seed=0)
    x = torch.zeros(1, d, requires_grad=True)
    for i in range(d):
        (g,) = torch.autograd.grad(made(x)[0, i], x)
        assert set(torch.nonzero(g[0]).flatten().tolist()) == set(range(i))


@pytest.mark.parametrize(
    "order_agnostic,connectivity_agnostic,hidden",
    [(True, True, [12]), (True, False, [12]), (False, True, [12]), (True, True, [10, 9, 8])],
)
def test_ensemble_probabilities_sum_to_one(order_agnostic, connectivity_agnostic, hidden):
    """The test NLL sla density reports (test_nll: minus the log of the mean probability over the K masks)
    is a normalized model: exp(-NLL) sums to 1 over all 2^D inputs, with several hidden layers too."""
    d = 6
    torch.manual_seed(1)
    made = Made(
        d,
        hidden,
        n_masks=5,
        order_agnostic=order_agnostic,
        connectivity_agnostic=connectivity_agnostic,
        direct=True,
        seed=2,
    )
    with torch.no_grad():
        for layer in made.layers:
            layer.weight.normal_(0, 2)
        every = torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)))
        total = (-made.test_nll(every, None)).exp().sum()
        one_mask = made.log_prob(every, 3).exp().sum()
        # with different orders, averaging logits over masks is not a normalized model: show it here
        mean_logits = torch.stack([made(every, k) for k in range(made.n_masks)]).mean(0)
        wrong = torch.distributions.Bernoulli(logits=mean_logits).log_prob(every).sum(-1).exp().sum()
    assert abs(float(total) - 1.0) < 1e-5 and abs(float(one_mask) - 1.0) < 1e-5
    if order_agnostic:  # (one shared order keeps averaged logits autoregressive, hence normalized)
        assert abs(float(wrong) - 1.0) > 1e-3


def test_samples_follow_the_model():
    """Ancestral samples of a tiny MADE match its exact probabilities (total variation)."""
    d = 3
    torch.manual_seed(4)
    made = Made(d, [8], n_masks=2, order_agnostic=True, seed=5)
    with torch.no_grad():
        for layer in made.layers:
            layer.weight.normal_(0, 2)
        every = torch.tensor(list(itertools.product([0.0, 1.0], repeat=d)))
        exact = made.ensemble_log_prob(every).exp()
        samples = made.sample(20000, generator=torch.Generator().manual_seed(0))
    codes = (samples * torch.tensor([4.0, 2.0, 1.0])).sum(-1).long()
    freq = torch.bincount(codes, minlength=8).float() / len(codes)
    assert 0.5 * (freq - exact).abs().sum() < 0.02


# ---- the stage, end to end at the smoke preset ----

import json  # noqa: E402
import math  # noqa: E402

from helpers.cli import assert_one_line_error, run_sla  # noqa: E402
from helpers.stages import run_stage  # noqa: E402


@pytest.mark.slow
def test_smoke_cli_writes_an_exact_nll_below_a_coin_per_pixel(tmp_path, mnist_root):
    out = tmp_path / "made"
    r = run_sla(
        "density", "preset=smoke", "density.model=made", f"run.out={out}", env={"SLA_DATA_ROOT": str(mnist_root)}
    )
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "density.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert result["model"] == "made" and result["n_masks"] == 2 and result["binarization"]["train"] == "dynamic"
    assert result["test_nll_nats"] < 784 * math.log(2) - 100  # learned something over 2 tiny epochs
    assert 0 < result["test_nll_se_nats"] < 10 and result["test_nll_kind"] == "exact"
    assert manifest["test_bits"] == result["binarization"]["test_bits_sha256"]
    assert result["split"] == {
        "train": 1000,
        "validation": 200,
        "test": 200,
        "validation_is": "the last 200 of MNIST's 60,000 training images",
    }
    assert [a["nats"] for a in result["anchors"]] == [88.40, 88.04, 86.64]
    assert {"density.json", "samples.png", "curves.png", "made.pt"} <= set(manifest["sha256"])


@pytest.mark.slow
def test_stop_then_resume_equals_an_uninterrupted_run(tmp_path, mnist_root):
    args = (
        "preset=smoke",
        "density.model=made",
        f"run.data_root={mnist_root}",
        "density.made.hidden=[32]",
        "density.made.direct=false",
        "density.n_samples=2",
        "density.train_size=300",
        "density.test_size=50",
    )
    run_stage("density", *args, out=tmp_path / "whole")
    run_stage("density", *args, "run.stop_after=1", out=tmp_path / "parts")
    assert not (tmp_path / "parts" / "manifest.json").exists()  # stopped on purpose: incomplete
    run_stage("density", *args, "run.resume=true", out=tmp_path / "parts")
    whole, parts = (json.loads((tmp_path / d / "density.json").read_text()) for d in ("whole", "parts"))
    assert parts["test_nll_nats"] == whole["test_nll_nats"]
    clocks = ("train_seconds", "cpu_seconds")

    def timeless(result):
        return [{k: v for k, v in row.items() if k not in clocks} for row in result["curves"]["made"]]

    assert timeless(parts) == timeless(whole) and len(timeless(whole)) == 2


@pytest.mark.slow
def test_bad_model_name_is_one_line(tmp_path):
    assert_one_line_error(
        run_sla("density", "preset=smoke", "density.model=pixelcnn", f"run.out={tmp_path}"), "density.model", code=2
    )
