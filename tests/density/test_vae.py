"""VAE: the importance-weighted estimate of log p(x) is a tighter bound than the ELBO and tightens
as k grows; chunked evaluation equals one big batch."""

from __future__ import annotations

from itertools import pairwise

import pytest
import torch

from sla_cli.density.models.vae import Vae


def _model_and_data():
    torch.manual_seed(0)
    vae = Vae(20, [32], latent=4)
    with torch.no_grad():  # a sharp decoder and an untrained encoder: q is far from the posterior
        for p in vae.decoder.parameters():
            p.normal_(0, 1)
    x = torch.bernoulli(torch.full((400, 20), 0.3), generator=torch.Generator().manual_seed(1))
    return vae, x


def test_log_mean_exp_of_the_same_weights_never_below_their_mean():
    """The property that always holds, sample by sample (Jensen): IWAE >= the Monte-Carlo ELBO."""
    vae, x = _model_and_data()
    with torch.no_grad():
        lw = vae.log_weights(x, 50)
    iwae = torch.logsumexp(lw, 0) - torch.log(torch.tensor(50.0))
    assert torch.all(iwae >= lw.mean(0) - 1e-5)


def test_iwae_nll_below_elbo_nll_and_not_rising_with_k():
    vae, x = _model_and_data()
    torch.manual_seed(2)
    with torch.no_grad():
        elbo_nll = -vae.elbo(x).mean().item()
        nll = [-vae.iwae_estimate(x, k, chunk=64).mean().item() for k in (1, 10, 100, 1000)]
    assert abs(nll[0] - elbo_nll) < 0.5  # k = 1 is the ELBO (up to Monte-Carlo noise over 400 images)
    for k_small, k_big in pairwise(nll[1:]):
        assert k_big <= k_small
    assert nll[1] < elbo_nll and nll[-1] < elbo_nll - 1.0  # a real gain, not noise


def test_chunked_estimate_matches_one_batch():
    vae, x = _model_and_data()
    torch.manual_seed(3)
    a = vae.iwae_estimate(x[:10], 100, chunk=20)
    torch.manual_seed(3)
    b = vae.iwae_estimate(x[:10], 100, chunk=100)
    # chunks of 20 x 10 x 4 normals (a multiple of torch's 16-value block) replay the same stream
    assert torch.allclose(a, b, atol=1e-4)
    with torch.no_grad():
        mu, logvar = vae.encode(x[:10])
        torch.manual_seed(4)
        lw = vae.log_weights(x[:10], 100, mu, logvar)
    exact = torch.logsumexp(lw, 0) - torch.log(torch.tensor(100.0))
    chunks = torch.logaddexp(torch.logsumexp(lw[:30], 0), torch.logsumexp(lw[30:], 0)) - torch.log(torch.tensor(100.0))
    assert torch.allclose(exact, chunks, atol=1e-5)


@pytest.mark.slow
def test_smoke_cli_iwae_below_elbo(tmp_path, mnist_root):
    import json

    from helpers.cli import run_sla

    out = tmp_path / "vae"
    r = run_sla(
        "density", "preset=smoke", "density.model=vae", f"run.out={out}", env={"SLA_DATA_ROOT": str(mnist_root)}
    )
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "density.json").read_text())
    assert result["iwae_k"] == 20 and result["test_nll_kind"] == "upper bound"
    assert result["test_nll_nats"] < result["test_elbo_nats"] < 784 * 0.6931  # IWAE-20 tighter than the ELBO
    assert 0 < result["test_nll_se_nats"] < 10
    assert (out / "samples.png").stat().st_size > 1000 and (out / "curves.png").exists()
