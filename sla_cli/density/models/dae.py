"""Denoising autoencoder as a generative model (Bengio et al. 2013): corrupt x~ ~ C(x~ | x), learn
P(x | x~) by cross-entropy; the Markov chain x_t ~ P(x | x~_{t-1}), x~_t ~ C(x~ | x_t) then samples.

Walkback training follows the chain a few steps from each training image and asks every step's
reconstruction to return to that image, so the model also unlearns the spurious modes the chain
would otherwise wander into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor

from sla_cli.density.base import DensityModel
from sla_cli.density.models.vae import mlp
from sla_cli.schema.density import ModelSettings, widths
from sla_cli.schema.fields import at_least, integer, number, one_of

NOISES = ("salt_pepper", "masking")


@dataclass
class DaeSettings(ModelSettings):  # conf/density/models/dae.yaml
    hidden: list[int] = widths()
    noise: str = one_of(*NOISES)
    level: Any = number(0, 1, low_open=True)
    walkback: int = at_least(1)
    chain_steps: int = at_least(1)
    chains: int = integer(1, 64)


def corrupt(x: Tensor, noise: str, level: float) -> Tensor:
    """salt_pepper: each pixel, with probability ``level``, becomes a fair coin flip;
    masking: each pixel, with probability ``level``, becomes 0."""
    hit = torch.rand_like(x) < level
    if noise == "masking":
        return x.masked_fill(hit, 0.0)
    return torch.where(hit, (torch.rand_like(x) < 0.5).to(x.dtype), x)


class Dae(DensityModel):
    name = "dae"
    nll_kind = "none"
    val_label = "one denoising step's cross-entropy (nats per image)"

    settings = DaeSettings

    @classmethod
    def build(cls, s: DictConfig, d: int, seed: int, walkback: int = 1) -> Dae:
        return cls(d, list(s.hidden), s.noise, s.level, walkback)

    @classmethod
    def members(cls, s: DictConfig, d: int, seed: int) -> dict[str, DensityModel]:
        """The plain scheme and walkback, trained side by side so their chains compare."""
        return {"plain": cls.build(s, d, seed), "walkback": cls.build(s, d, seed, walkback=s.walkback)}

    @classmethod
    def member_names(cls) -> list[str]:
        return ["plain", "walkback"]

    @classmethod
    def class_model(cls, members: dict[str, DensityModel]) -> DensityModel:
        return members["walkback"] if members["walkback"].walkback > 1 else members["plain"]

    def __init__(self, d: int, hidden: list[int], noise: str, level: float, walkback: int = 1):
        super().__init__()
        self.d, self.noise, self.level, self.walkback = d, noise, level, walkback
        self.net = mlp([d, *hidden, d])

    def logits(self, x_tilde: Tensor) -> Tensor:
        return self.net(x_tilde).float()

    def cross_entropy(self, x_tilde: Tensor, x: Tensor) -> Tensor:
        """-log P(x | x~) per image in nats [B]."""
        return F.binary_cross_entropy_with_logits(self.logits(x_tilde), x.float(), reduction="none").sum(-1)

    def train_loss(self, x: Tensor) -> Tensor:
        """Per image [B]: the mean over ``walkback`` chain steps of -log P(x | x~_j), where x~_1 = C(x)
        and x~_{j+1} = C(a sample of P(. | x~_j)) (no gradient through the sampling). walkback=1 is
        the plain scheme."""
        x_tilde = corrupt(x, self.noise, self.level)
        total = 0.0
        for j in range(self.walkback):
            logits = self.logits(x_tilde)
            total = total + F.binary_cross_entropy_with_logits(logits, x.float(), reduction="none").sum(-1)
            if j + 1 < self.walkback:
                x_tilde = corrupt(torch.bernoulli(torch.sigmoid(logits.detach())), self.noise, self.level)
        return total / self.walkback

    def val_loss(self, x: Tensor) -> Tensor:
        """One denoising step for both members, so the plain and walkback curves compare."""
        return self.cross_entropy(corrupt(x, self.noise, self.level), x)

    def test_nll(self, x: Tensor, c: DictConfig) -> Tensor:
        raise NotImplementedError("a DAE has no normalized likelihood")

    def test_numbers(self, x: Tensor, c: DictConfig) -> dict[str, Tensor]:
        return {"test_denoising_ce_nats": self.val_loss(x), "test_reconstruction_ce_nats": self.cross_entropy(x, x)}

    def class_score(self, x: Tensor, c: DictConfig) -> Tensor:
        return -self.cross_entropy(x, x)  # a pseudo-score: not a normalized log-likelihood

    @classmethod
    def samples_figure(cls, members: dict[str, DensityModel], c: DictConfig, device: torch.device):
        """Chains from noise, plain beside walkback."""
        from sla_cli.density.figures import chains_figure

        s = c[cls.name]
        noise = torch.bernoulli(torch.full((s.chains, members["plain"].d), 0.5, device=device))
        return chains_figure(
            {name: m.chain(noise, s.chain_steps) for name, m in members.items()}, max(1, s.chain_steps // 10)
        )

    @torch.no_grad()
    def chain(self, x0: Tensor, steps: int) -> Tensor:
        """The sampler from x0: [steps, N, D], each step's P(x | x~_{t-1}) means (in [0, 1]); the
        chain itself moves on Bernoulli samples of them."""
        x, means = x0, []
        for _ in range(steps):
            p = torch.sigmoid(self.logits(corrupt(x, self.noise, self.level)))
            means.append(p)
            x = torch.bernoulli(p)
        return torch.stack(means)
