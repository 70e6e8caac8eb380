"""VAE (Kingma & Welling 2014): Gaussian encoder q(z|x), standard normal prior, Bernoulli decoder.

The ELBO uses the analytic KL; the importance-weighted estimate (Burda et al. 2016)
log p(x) ~ log (1/k) sum_i p(x, z_i) / q(z_i | x) is computed over chunks of samples with a
running logsumexp, so k = 5000 fits in memory. Training may use the IWAE bound (train_k > 1): the
paper's IWAE; train_k = 1 is its VAE. The validation number after each epoch is the training bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from sla_cli.density.base import DensityModel
from sla_cli.schema.density import ModelSettings, widths
from sla_cli.schema.fields import at_least, integer

LOG_2PI = math.log(2 * math.pi)


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())  # the IWAE paper's deterministic units
    return nn.Sequential(*layers)


@dataclass
class VaeSettings(ModelSettings):  # conf/density/models/vae.yaml
    hidden: list[int] = widths()
    latent: int = at_least(1)
    train_k: int = integer(1, 100000)


class Vae(DensityModel):
    name = "vae"
    nll_kind = "upper bound"  # the IWAE-k estimate: -log p(x) <= it in expectation, tighter as k grows

    settings = VaeSettings

    @classmethod
    def build(cls, s: DictConfig, d: int, seed: int) -> Vae:
        return cls(d, list(s.hidden), s.latent, s.train_k)

    def __init__(self, d: int, hidden: list[int], latent: int, train_k: int = 1):
        super().__init__()
        self.d, self.latent, self.train_k = d, latent, train_k
        self.val_label = "-ELBO (nats per image)" if train_k == 1 else f"-IWAE bound, k={train_k} (nats per image)"
        self.encoder = mlp([d, *hidden, 2 * latent])
        self.decoder = mlp([latent, *reversed(hidden), d])

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, logvar = self.encoder(x).float().chunk(2, dim=-1)
        return mu, logvar.clamp(-12, 8)  # keeps exp() finite in the first steps

    def log_likelihood(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(x | z), summed over pixels; z [..., B, L] broadcasts against x [B, D]."""
        logits = self.decoder(z).float()
        return -F.binary_cross_entropy_with_logits(logits, x.float().expand_as(logits), reduction="none").sum(-1)

    def elbo(self, x: Tensor) -> Tensor:
        """E_q[log p(x|z)] (one reparameterized sample) - KL(q || N(0, I)), per image [B]."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)
        return self.log_likelihood(x, z) - kl

    def log_weights(self, x: Tensor, k: int, mu: Tensor | None = None, logvar: Tensor | None = None) -> Tensor:
        """log p(x, z_i) - log q(z_i | x) for k samples z_i ~ q(z|x), [k, B]."""
        if mu is None:
            mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        eps = torch.randn(k, *mu.shape, device=mu.device)
        z = mu + eps * std
        log_q = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(-1)
        log_prior = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
        return self.log_likelihood(x, z) + log_prior - log_q

    def iwae_bound(self, x: Tensor, k: int) -> Tensor:
        """The k-sample importance-weighted bound per image [B] (differentiable: a training objective)."""
        return torch.logsumexp(self.log_weights(x, k), dim=0) - math.log(k)

    @torch.no_grad()
    def iwae_estimate(self, x: Tensor, k: int, chunk: int) -> Tensor:
        """The same bound with k samples drawn ``chunk`` at a time (memory ~ chunk x B x D floats)."""
        mu, logvar = self.encode(x)
        total = torch.full((x.shape[0],), -math.inf, device=x.device)
        for start in range(0, k, chunk):
            lw = self.log_weights(x, min(chunk, k - start), mu, logvar)
            total = torch.logaddexp(total, torch.logsumexp(lw, dim=0))
        return total - math.log(k)

    def train_loss(self, x: Tensor) -> Tensor:
        return -self.elbo(x) if self.train_k == 1 else -self.iwae_bound(x, self.train_k)

    def test_nll(self, x: Tensor, c: DictConfig) -> Tensor:
        return -self.iwae_estimate(x, c.iwae_k, c.iwae_chunk)

    def test_setting(self, c: DictConfig) -> dict:
        return {
            "iwae_k": c.iwae_k,
            "train_k": self.train_k,
            "test_nll": f"upper bound: minus the IWAE estimate with k={c.iwae_k} samples per image; "
            "test_elbo_nats: minus the ELBO",
        }

    def test_numbers(self, x: Tensor, c: DictConfig) -> dict[str, Tensor]:
        return {"test_elbo_nats": -self.elbo(x)}

    def samples_title(self) -> str:
        return "VAE: decoder means of z ~ N(0, I)"

    @torch.no_grad()
    def sample(self, n: int) -> Tensor:
        """Decoder means for z ~ N(0, I) (the Bernoulli probabilities, as VAE papers show them)."""
        device = next(self.parameters()).device
        return torch.sigmoid(self.decoder(torch.randn(n, self.latent, device=device)).float())
