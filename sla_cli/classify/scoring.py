"""The set as a Bayes classifier: every class autoencoder scores every image, argmax wins.

Scorings (logits [N, C], higher = more likely):
  recon      -|x - f(g(x))|^2, the only term the paper used;
  full       eq. (4): recon term with a per-class sigma + log p(z*) + the Jacobian volume term;
  calibrated per-class weights over the terms of eq. (5), fitted on the validation split.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sla_cli import likelihood
from sla_cli.classify.calibrate import Calibration
from sla_cli.classify.data import Split
from sla_cli.models.ae_set import AutoencoderSet

SCORINGS = ("recon", "full", "calibrated")


class SetScorer:
    def __init__(self, model: AutoencoderSet, sigma: Tensor, density: likelihood.LatentGaussian,
                 calibration: Calibration | None = None, jitter: float = 1e-6):
        self.model, self.sigma, self.density, self.calibration, self.jitter = model, sigma, density, calibration, jitter

    @property
    def n_classes(self) -> int:
        return self.model.n_members

    def features(self, x: Tensor, logdet: bool = True) -> Tensor:
        """[B, C, 3]: (-sqerr, log p(z*), volume term) of every class autoencoder, plus the full
        recon log-likelihood as a 4th column (it differs from -sqerr by the per-class sigma)."""
        xs = x.float().unsqueeze(0).expand(self.n_classes, -1, -1)
        t = likelihood.score(self.model, xs, sigma=self.sigma, density=self.density, logdet=logdet, jitter=self.jitter)
        return torch.stack([-t.sqerr, t.log_pz, t.logdet, t.recon], -1).transpose(0, 1)

    @staticmethod
    def logits_from_features(f: Tensor, scoring: str, calibration: Calibration | None) -> Tensor:
        if scoring == "recon":
            return f[..., 0]
        if scoring == "full":
            return f[..., 3] + f[..., 1] + f[..., 2]
        if calibration is None:
            raise RuntimeError("calibrated scoring asked for before calibration")
        return calibration.apply(f[..., :3])

    def logits(self, x: Tensor, scoring: str) -> Tensor:
        """Differentiable [B, C] logits: attacks take their gradients here."""
        return self.logits_from_features(self.features(x, logdet=scoring != "recon"), scoring, self.calibration)

    @torch.no_grad()
    def all_features(self, x: Tensor, batch: int) -> Tensor:
        return torch.cat([self.features(x[i:i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def fit_stats(model: AutoencoderSet, train: Split, batch: int, max_per_class: int) -> tuple[Tensor, likelihood.LatentGaussian]:
    """Per-class sigma from each autoencoder's residuals on its own training images, and a Gaussian
    fitted to its latents of them (eq. (4)'s sigma and p(z))."""
    sigmas, latents = [], []
    for c in range(model.n_members):
        xc = train.x[train.y == c][:max_per_class]
        member = torch.tensor([c], device=xc.device)
        sq, zs = 0.0, []
        for i in range(0, len(xc), batch):
            xb = xc[i:i + batch][None]
            z = model.encode(xb, member)
            sq += float(((model.decode(z, member) - xb) ** 2).sum())
            zs.append(z[0].float())
        sigmas.append((sq / (len(xc) * xc.shape[1])) ** 0.5)
        latents.append(torch.cat(zs))
    return torch.tensor(sigmas, device=train.x.device), likelihood.LatentGaussian.fit(latents)
