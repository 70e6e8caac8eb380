"""The hand-written CPU step (sla_cli/train/fast_step.py) trains to autograd's weights bit for bit.

Each case trains two copies of one seeded model for several alternating self and cross steps, one
with autograd's step (``fast=False``) and one with the fast step, on the same batches, and asserts
every parameter, Adam moment and logged loss is identical (torch.equal, not a tolerance). A
reduction in another order (e.g. the decoder bias summed over [C, D, B] memory instead of [C, B, D])
fails here within a few steps.
"""

from __future__ import annotations

import pytest
import torch

from sla_cli import runtime
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train import fast_step
from sla_cli.train.loop import held_view_sources, loss_weights, make_optimizer, random_derangement, train_step

# (C, D, H, L, B): tiny (torch's small-matrix bmm path), the smoke and demo presets' shapes, and
# the paper's batch of 256 on small matrices (a contraction longer than one gemm block)
SHAPES = {
    "tiny": (5, 12, 7, 3, 4),
    "smoke": (100, 576, 64, 8, 16),
    "demo": (100, 1024, 128, 16, 32),
    "batch256": (6, 96, 40, 8, 256),
}


def trained_pair(shape, steps: int, views_per_digit: int | None = None, threads: int = 1):
    c, d, h, lat, b = shape
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        gen = torch.Generator().manual_seed(3)
        masks = torch.rand(c, d, generator=gen) * (torch.rand(c, d, generator=gen) > 0.3)
        weight = loss_weights(masks.reshape(c, 1, d))
        runs = []
        for fast in (False, True):
            torch.manual_seed(0)
            model = AutoencoderSet(c, d, h, lat)
            opt = make_optimizer(model, 1e-3, torch.device("cpu"))
            gen = torch.Generator().manual_seed(1)
            losses = []
            for step in range(steps):
                x = torch.rand(c, b, d, generator=gen)
                kind = "self" if step % 2 == 0 else "cross"
                perm, seen = random_derangement(c, gen), None
                if views_per_digit is not None:
                    keys = torch.rand(c, b, generator=gen)
                    seen = (keys.argsort(0).argsort(0) < views_per_digit).float()  # k held views per digit
                    perm = held_view_sources(seen, torch.rand(c, b, generator=gen))
                losses.append(train_step(model, opt, x, weight, kind, perm, seen=seen, fast=fast)[kind])
            runs.append((model, opt, torch.stack(losses)))
        return runs
    finally:
        torch.set_num_threads(previous)


def assert_identical(runs):
    (ref, ref_opt, ref_losses), (fast, fast_opt, fast_losses) = runs
    assert torch.equal(ref_losses, fast_losses), (ref_losses - fast_losses).abs().max()
    for (name, p), q in zip(ref.named_parameters(), fast.parameters(), strict=True):
        assert torch.equal(p, q), f"{name}: max |diff| {(p - q).abs().max():.3g}"
        for key in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(ref_opt.state[p][key], fast_opt.state[q][key]), (name, key)


# tiny and smoke in the unit tier; the demo and batch-256 shapes (seconds each) run with the slow tests
@pytest.mark.parametrize(
    "shape",
    ["tiny", "smoke", pytest.param("demo", marks=pytest.mark.slow), pytest.param("batch256", marks=pytest.mark.slow)],
)
def test_fast_step_trains_to_autograds_weights_bit_for_bit(shape):
    assert_identical(trained_pair(SHAPES[shape], steps=6))


@pytest.mark.slow
def test_fast_step_bit_for_bit_on_two_threads():
    assert_identical(trained_pair(SHAPES["demo"], steps=4, threads=2))


@pytest.mark.parametrize("shape", ["tiny", "smoke"])
def test_fast_step_bit_for_bit_with_views_per_digit(shape):
    """train.views_per_digit: unseen views masked out, per-digit cross pairs (a gather, not an index)."""
    assert_identical(trained_pair(SHAPES[shape], steps=6, views_per_digit=2))


def test_fast_step_runs_where_it_covers_and_only_there():
    x = torch.rand(3, 2, 4)
    assert fast_step.covers(AutoencoderSet(3, 4, 5, 2), x, "cross")
    assert not fast_step.covers(AutoencoderSet(3, 4, 5, 2), x, "mixed")
    assert not fast_step.covers(AutoencoderSet(3, 4, 5, 2, tied=False), x, "self")
    assert not fast_step.covers(AutoencoderSet(3, 4, 5, 2, learn_sigma=True), x, "self")
    assert not fast_step.covers(AutoencoderSet(3, 4, 5, 2).double(), x.double(), "self")
    try:
        runtime.configure(0, "bf16")
        with runtime.autocast(x.device):
            assert not fast_step.covers(AutoencoderSet(3, 4, 5, 2), x, "self")
    finally:
        runtime.configure(0, "auto")


def test_fast_step_reuses_its_gradient_buffers():
    """The point of it on CPU: no fresh [C, D, H] gradient (a page-faulted mmap) every step."""
    torch.manual_seed(0)
    model = AutoencoderSet(4, 8, 6, 2)
    opt = make_optimizer(model, 1e-3, torch.device("cpu"))
    weight = loss_weights(torch.ones(4, 1, 8))
    perm = random_derangement(4, torch.Generator().manual_seed(0))
    train_step(model, opt, torch.rand(4, 3, 8), weight, "self", perm)
    before = model.enc1_w.grad.data_ptr()
    train_step(model, opt, torch.rand(4, 3, 8), weight, "cross", perm)
    assert model.enc1_w.grad.data_ptr() == before
