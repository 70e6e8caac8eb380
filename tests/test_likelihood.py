"""Eq. (4)'s terms against brute force: autograd Jacobians, torch.distributions densities."""

import math

import pytest
import torch

from sla_cli import likelihood
from sla_cli.models.ae_set import AutoencoderSet


def tiny(tied: bool, hidden: int = 9) -> AutoencoderSet:
    torch.manual_seed(0)
    return AutoencoderSet(3, 12, hidden, 3, tied=tied).double()


def brute_jacobian(model, z_row, member):
    """df/dz of member `member` at one latent point, by autograd."""
    m = torch.tensor([member])
    return torch.autograd.functional.jacobian(lambda z: model.decode(z[None, None], m)[0, 0], z_row)  # [D, L]


@pytest.mark.parametrize("tied", [True, False])
def test_analytic_jacobian_matches_autograd(tied):
    model = tiny(tied)
    members = torch.tensor([2, 0, 1, 2])  # rows served by any member, repeats allowed
    z = torch.randn(4, 5, 3, dtype=torch.float64)
    out, jt = likelihood.decode_with_jacobian(model, z, members)
    assert torch.allclose(out, model.decode(z, members))
    for r in range(4):
        for b in range(5):
            assert torch.allclose(jt[r, b].T, brute_jacobian(model, z[r, b], int(members[r])), atol=1e-10)


@pytest.mark.parametrize("tied", [True, False])
def test_logdet_term_matches_brute_force(tied):
    model = tiny(tied, hidden=32)  # wide enough that ReLU leaves J full rank: a well-defined logdet
    x = torch.rand(3, 4, 12, dtype=torch.float64)
    sigma = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    mask = (torch.rand(3, 4, 12) > 0.3).double()
    terms = likelihood.score(model, x, mask=mask, sigma=sigma, jitter=0.0)
    assert torch.isfinite(terms.logdet).all()
    z = model.encode(x)
    for r in range(3):
        for b in range(4):
            j = brute_jacobian(model, z[r, b], r) * mask[r, b][:, None] / sigma[r]
            gram = j.T @ j
            assert torch.linalg.eigvalsh(gram).min() > 1e-6  # the check is only meaningful for a regular J^T J
            expected = 0.5 * 3 * math.log(2 * math.pi) - 0.5 * torch.logdet(gram)
            assert terms.logdet[r, b].item() == pytest.approx(expected.item(), rel=1e-8, abs=1e-8)


def test_recon_term_is_masked_gaussian_log_density():
    model = tiny(True)
    x = torch.rand(3, 4, 12, dtype=torch.float64)
    sigma = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    mask = (torch.rand(3, 12) > 0.5).double()  # one mask per row
    terms = likelihood.score(model, x, mask=mask, sigma=sigma, logdet=False)
    recon = model(x)
    for r in range(3):
        keep = mask[r].bool()
        normal = torch.distributions.Normal(recon[r][:, keep], sigma[r])
        assert torch.allclose(terms.recon[r], normal.log_prob(x[r][:, keep]).sum(-1))
        assert torch.allclose(terms.sqerr[r], ((x[r] - recon[r]) ** 2 * mask[r]).sum(-1))
    assert torch.all(terms.logdet == 0)


def test_latent_gaussian_matches_multivariate_normal():
    torch.manual_seed(1)
    latents = [torch.randn(200, 3, dtype=torch.float64) * s + s for s in (1.0, 2.0)]
    density = likelihood.LatentGaussian.fit(latents, shrink=0.0)
    z = torch.randn(2, 6, 3, dtype=torch.float64)
    got = density.log_prob(z, torch.tensor([1, 0]))
    for r, member in enumerate((1, 0)):
        mvn = torch.distributions.MultivariateNormal(density.mean[member], scale_tril=density.chol[member])
        assert torch.allclose(got[r], mvn.log_prob(z[r]))
    assert torch.allclose(density.mean[1], latents[1].mean(0))


def test_full_likelihood_is_differentiable_in_x():
    model = tiny(True)
    x = torch.rand(3, 2, 12, dtype=torch.float64, requires_grad=True)
    density = likelihood.LatentGaussian.fit([torch.randn(50, 3, dtype=torch.float64) for _ in range(3)])
    total = likelihood.score(model, x, sigma=torch.full((3,), 0.2, dtype=torch.float64), density=density).total
    (g,) = torch.autograd.grad(total.sum(), x)
    assert torch.isfinite(g).all() and g.abs().sum() > 0
