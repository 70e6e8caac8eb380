"""DAE: corruption does what it says, the Markov chain stays in [0, 1], walkback's first step is
the plain loss."""

from __future__ import annotations

import pytest
import torch

from sla_cli.density.models.dae import Dae, corrupt


def test_masking_only_zeroes_and_salt_pepper_flips_about_half_the_hits():
    torch.manual_seed(0)
    x = torch.ones(200, 100)
    masked = corrupt(x, "masking", 0.3)
    assert set(masked.unique().tolist()) <= {0.0, 1.0}
    assert abs((masked == 0).float().mean().item() - 0.3) < 0.02
    salted = corrupt(x, "salt_pepper", 0.4)
    assert abs((salted == 0).float().mean().item() - 0.2) < 0.02  # hits become a coin flip: half of them 0


@pytest.mark.parametrize("noise", ["salt_pepper", "masking"])
def test_chain_stays_in_unit_interval(noise):
    torch.manual_seed(1)
    dae = Dae(30, [16], noise, 0.3, walkback=3)
    with torch.no_grad():
        for p in dae.parameters():
            p.normal_(0, 3)  # saturating weights: the chain must still give probabilities
    chain = dae.chain(torch.rand(8, 30), steps=25)
    assert chain.shape == (25, 8, 30)
    assert torch.isfinite(chain).all() and chain.min() >= 0 and chain.max() <= 1


def test_walkback_of_one_step_is_the_plain_loss():
    dae = Dae(30, [16], "salt_pepper", 0.2, walkback=1)
    x = torch.bernoulli(torch.full((50, 30), 0.4))
    torch.manual_seed(5)
    loss = dae.train_loss(x)
    torch.manual_seed(5)
    plain = dae.cross_entropy(corrupt(x, "salt_pepper", 0.2), x)
    assert torch.allclose(loss, plain)


@pytest.mark.slow
def test_smoke_cli_trains_plain_and_walkback(tmp_path, mnist_root):
    import json

    from helpers.cli import run_sla

    out = tmp_path / "dae"
    r = run_sla(
        "density",
        "preset=smoke",
        "density.model=dae",
        "density.dae.noise=masking",
        f"run.out={out}",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "density.json").read_text())
    assert set(result["members"]) == {"plain", "walkback"}
    for numbers in result["members"].values():
        assert 0 < numbers["test_reconstruction_ce_nats"] < 784 * 0.6931
    assert (out / "samples.png").exists() and (out / "plain.pt").exists() and (out / "walkback.pt").exists()


@pytest.mark.slow
def test_two_member_run_resumes_to_the_same_numbers(tmp_path, mnist_root):
    """Stopped twice (stop_after counts each member's epochs, so the plain member stops), then resumed
    through both members: the same numbers as one uninterrupted run."""
    import json

    from helpers.stages import run_stage

    args = (
        "preset=smoke",
        "density.model=dae",
        f"run.data_root={mnist_root}",
        "density.epochs=3",
        "density.train_size=200",
        "density.test_size=50",
        "density.dae.hidden=[16]",
    )
    run_stage("density", *args, out=tmp_path / "whole")
    run_stage("density", *args, "run.stop_after=1", out=tmp_path / "parts")  # plain stops after epoch 1
    run_stage("density", *args, "run.resume=true", "run.stop_after=2", out=tmp_path / "parts")
    run_stage("density", *args, "run.resume=true", out=tmp_path / "parts")
    whole, parts = (json.loads((tmp_path / d / "density.json").read_text()) for d in ("whole", "parts"))
    assert parts["members"] == whole["members"]
