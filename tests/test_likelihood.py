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
    density = likelihood.LatentGaussian.fit_to_latents(latents, shrink=0.0)
    z = torch.randn(2, 6, 3, dtype=torch.float64)
    got = density.log_prob(z, torch.tensor([1, 0]))
    for r, member in enumerate((1, 0)):
        mvn = torch.distributions.MultivariateNormal(density.mean[member], scale_tril=density.chol[member])
        assert torch.allclose(got[r], mvn.log_prob(z[r]))
    assert torch.allclose(density.mean[1], latents[1].mean(0))


def test_full_likelihood_is_differentiable_in_x():
    model = tiny(True)
    x = torch.rand(3, 2, 12, dtype=torch.float64, requires_grad=True)
    density = likelihood.LatentGaussian.fit_to_latents([torch.randn(50, 3, dtype=torch.float64) for _ in range(3)])
    total = likelihood.score(model, x, sigma=torch.full((3,), 0.2, dtype=torch.float64), density=density).total
    (g,) = torch.autograd.grad(total.sum(), x)
    assert torch.isfinite(g).all() and g.abs().sum() > 0


class _CodeAt(AutoencoderSet):
    """A decoder whose "encoder" returns a given latent: eq. (4) is then evaluated at that z*."""

    z_star: torch.Tensor

    def encode(self, x, members=None):
        return self.z_star.expand(x.shape[0], x.shape[1], -1)


def _numerical_log_evidence(model, x, mask, sigma, density, half_width, n=801):
    """log of the integral over a 2-D latent grid of prod_d N(x_d; f_d(z), sigma_d^2)^{m_d} p(z):
    the quantity eq. (4) approximates, computed without any of its formulas."""
    axis = torch.linspace(-half_width, half_width, n, dtype=torch.float64)
    zz = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2) + model.z_star.reshape(1, 2)
    out = model.decode(zz[None])[0]  # [G, D]
    normal = torch.distributions.Normal(out, sigma)
    log_lik = (normal.log_prob(x.reshape(1, -1)) * mask).sum(-1)
    prior = torch.distributions.MultivariateNormal(density.mean[0], scale_tril=density.chol[0])
    step = (axis[1] - axis[0]).item()
    return torch.logsumexp(log_lik + prior.log_prob(zz), 0).item() + 2 * math.log(step)


@pytest.mark.parametrize("fractional", [False, True])
def test_eq4_total_matches_a_numerical_integral_over_a_2d_latent(fractional):
    """For an input on the decoder's manifold, x = f(z*), eq. (4)'s total (reconstruction term, log
    p(z*), Laplace volume) is log p(x) up to the Laplace approximation's error, with the mask weighting
    each pixel's log-density by m; weighting by m**2 instead would miss by about a nat here."""
    torch.manual_seed(3)
    d = 8
    model = _CodeAt(1, d, 6, 2, tied=False).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(4.0)  # a curved decoder with a steep Jacobian: a narrow posterior
    model.z_star = torch.tensor([[[0.3, -0.2]]], dtype=torch.float64)
    x = model.decode(model.z_star)  # [1, 1, D]
    sigma = torch.linspace(0.01, 0.025, d, dtype=torch.float64)[None]  # per pixel; Laplace's error shrinks as sigma^2
    mask = torch.ones(1, d, dtype=torch.float64)
    if fractional:
        mask = torch.tensor([[1.0, 0.3, 0.7, 0.0, 0.5, 1.0, 0.15, 0.9]], dtype=torch.float64)
    density = likelihood.LatentGaussian(
        torch.zeros(1, 2, dtype=torch.float64),
        torch.linalg.cholesky(torch.tensor([[[1.0, 0.3], [0.3, 0.8]]], dtype=torch.float64)),
    )
    total = likelihood.score(model, x, mask=mask, sigma=sigma, density=density, jitter=0.0).total.item()
    expected = _numerical_log_evidence(model, x[0, 0], mask[0], sigma[0], density, half_width=0.25)
    assert total == pytest.approx(expected, abs=0.02)
    if fractional:  # the test can tell the two mask conventions apart
        squared = likelihood.score(model, x, mask=mask**2, sigma=sigma, density=density, jitter=0.0).total.item()
        assert abs(squared - expected) > 0.3


def test_score_uses_the_models_learned_sigma():
    torch.manual_seed(0)
    model = AutoencoderSet(3, 12, 9, 3, learn_sigma=True).double()
    with torch.no_grad():
        model.log_sigma.copy_(torch.randn(3, 12, dtype=torch.float64) * 0.3 - 2)
    x = torch.rand(3, 4, 12, dtype=torch.float64)
    own = likelihood.score(model, x)
    explicit = likelihood.score(model, x, sigma=model.log_sigma.exp())
    torch.testing.assert_close(own.total, explicit.total)
    unit = likelihood.score(model, x, sigma=torch.ones(3, dtype=torch.float64))
    assert not torch.allclose(own.recon, unit.recon)
