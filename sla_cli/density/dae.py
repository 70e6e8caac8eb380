"""Denoising autoencoder as a generative model (Bengio et al. 2013): corrupt x~ ~ C(x~ | x), learn
P(x | x~) by cross-entropy; the Markov chain x_t ~ P(x | x~_{t-1}), x~_t ~ C(x~ | x_t) then samples.

Walkback training follows the chain a few steps from each training image and asks every step's
reconstruction to return to that image, so the model also unlearns the spurious modes the chain
would otherwise wander into.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sla_cli.density.vae import mlp

NOISES = ("salt_pepper", "masking")


def corrupt(x: Tensor, noise: str, level: float) -> Tensor:
    """salt_pepper: each pixel, with probability ``level``, becomes a fair coin flip;
    masking: each pixel, with probability ``level``, becomes 0."""
    hit = torch.rand_like(x) < level
    if noise == "masking":
        return x.masked_fill(hit, 0.0)
    return torch.where(hit, (torch.rand_like(x) < 0.5).to(x.dtype), x)


class Dae(nn.Module):
    def __init__(self, d: int, hidden: list[int], noise: str, level: float, walkback: int = 1):
        super().__init__()
        self.noise, self.level, self.walkback = noise, level, walkback
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
