"""The set as a Bayes classifier: every class autoencoder scores every image, argmax wins.

Scorings (logits [N, C], higher = more likely):
  recon          -|x - f(g(x))|^2, the only term the paper used;
  full           eq. (4): recon term with a per-class sigma + log p(z*) + the Jacobian volume term;
  calibrated     per-class weights over the terms of eq. (5), fitted on the validation split;
  learned_sigma  eq. (4) with the model's own per-pixel sigma (only when trained with learn_sigma).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sla_cli import likelihood
from sla_cli.classify.calibrate import Calibration
from sla_cli.classify.data import Split
from sla_cli.models.ae_set import AutoencoderSet

SCORINGS = ("recon", "full", "calibrated")
LEARNED_SIGMA = "learned_sigma"


class Col:
    """The feature columns of ``SetScorer.features`` (last axis)."""

    NEG_SQERR = 0  # -|x - f(z*)|^2
    LOG_PZ = 1  # log p(z*)
    VOLUME = 2  # L/2 log 2pi - 1/2 logdet(J^T J / sigma^2), sigma = the per-class scalar
    RECON = 3  # log N(x; f(z*), sigma^2 I), sigma = the per-class scalar
    RECON_LEARNED = 4  # the same two terms with the learned per-pixel sigma (learn_sigma models only)
    VOLUME_LEARNED = 5
    CALIBRATED = slice(0, 3)  # what the calibration weighs: the three terms of eq. (5)


# How each scoring uses the class prior (Bayes: log p(c | x) = log p(x | c) + log p(c) + const)
PRIOR_USE = {
    "recon": "none (the paper's rule)",  # an error, not a log-likelihood: a prior has no scale to add to
    "full": "+ log prior",
    "calibrated": "in its fitted bias",  # a free per-class bias fitted by cross-entropy absorbs any prior
    LEARNED_SIGMA: "+ log prior",
}
WITH_PRIOR = ("full", LEARNED_SIGMA)


class SetScorer:
    def __init__(
        self,
        model: AutoencoderSet,
        sigma: Tensor,
        density: likelihood.LatentGaussian,
        calibration: Calibration | None = None,
        jitter: float = 1e-6,
        log_prior: Tensor | None = None,
    ):
        self.model, self.sigma, self.density, self.calibration, self.jitter = model, sigma, density, calibration, jitter
        self.log_prior = log_prior  # [C] log p(class) from the training counts; None: equal priors

    @property
    def n_classes(self) -> int:
        return self.model.n_members

    @property
    def scorings(self) -> tuple[str, ...]:
        return SCORINGS + ((LEARNED_SIGMA,) if self.model.log_sigma is not None else ())

    def features(self, x: Tensor, logdet: bool = True) -> Tensor:
        """[B, C, K]: the ``Col`` columns of every class autoencoder for each image."""
        xs = x.float().unsqueeze(0).expand(self.n_classes, -1, -1)
        t = likelihood.score(self.model, xs, sigma=self.sigma, density=self.density, logdet=logdet, jitter=self.jitter)
        cols = [-t.sqerr, t.log_pz, t.logdet, t.recon]
        own = likelihood.model_sigma(self.model)
        if own is not None:
            learned = likelihood.score(self.model, xs, sigma=own, logdet=logdet, jitter=self.jitter)
            cols += [learned.recon, learned.logdet]
        return torch.stack(cols, -1).transpose(0, 1)

    @staticmethod
    def logits_from_features(
        f: Tensor, scoring: str, calibration: Calibration | None, log_prior: Tensor | None = None
    ) -> Tensor:
        """[N, C] class scores; ``log_prior`` is added where ``PRIOR_USE`` says (None: log p(x | c) alone)."""
        prior = log_prior if log_prior is not None and scoring in WITH_PRIOR else 0.0
        if scoring == "recon":
            return f[..., Col.NEG_SQERR]
        if scoring == "full":
            return f[..., Col.RECON] + f[..., Col.LOG_PZ] + f[..., Col.VOLUME] + prior
        if scoring == LEARNED_SIGMA:
            return f[..., Col.RECON_LEARNED] + f[..., Col.LOG_PZ] + f[..., Col.VOLUME_LEARNED] + prior
        if calibration is None:
            raise RuntimeError("calibrated scoring asked for before calibration")
        return calibration.apply(f[..., Col.CALIBRATED])

    def class_logits(self, f: Tensor, scoring: str) -> Tensor:
        """This scorer's Bayes rule (its calibration and class prior) over precomputed features."""
        return self.logits_from_features(f, scoring, self.calibration, self.log_prior)

    def logits(self, x: Tensor, scoring: str) -> Tensor:
        """Differentiable [B, C] logits: attacks take their gradients here."""
        return self.class_logits(self.features(x, logdet=scoring != "recon"), scoring)

    @torch.no_grad()
    def all_features(self, x: Tensor, batch: int) -> Tensor:
        return torch.cat([self.features(x[i : i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def recon_logits(model: AutoencoderSet, x: Tensor, batch: int) -> Tensor:
    """[N, C] -|x - f(g(x))|^2 under every member: the recon scoring without sigma, density or Jacobian
    (what the validation grid compares: it fits nothing on the validation split)."""
    out = []
    for i in range(0, len(x), batch):
        xs = x[i : i + batch].float().unsqueeze(0).expand(model.n_members, -1, -1)
        out.append(-likelihood.score(model, xs, logdet=False).sqerr.T)
    return torch.cat(out)


@torch.no_grad()
def residual_sigma_and_latents(
    model: AutoencoderSet, split: Split, batch: int, max_per_class: int
) -> tuple[Tensor, list[Tensor]]:
    """Per class c: the RMS residual of autoencoder c on (at most ``max_per_class``) class-c images
    of ``split`` (eq. (4)'s sigma), and its latents of them (for p(z))."""
    sigmas, latents = [], []
    for c in range(model.n_members):
        xc = split.x[split.y == c][:max_per_class]
        member = torch.tensor([c], device=xc.device)
        sq, zs = 0.0, []
        for i in range(0, len(xc), batch):
            xb = xc[i : i + batch][None]
            z = model.encode(xb, member)
            sq += float(((model.decode(z, member) - xb) ** 2).sum())
            zs.append(z[0].float())
        sigmas.append((sq / (len(xc) * xc.shape[1])) ** 0.5)
        latents.append(torch.cat(zs))
    return torch.tensor(sigmas, device=split.x.device), latents


def sigma_and_density(
    model: AutoencoderSet, splits: dict[str, Split], sigma_from: str, density_from: str, batch: int, max_per_class: int
) -> tuple[Tensor, likelihood.LatentGaussian, dict]:
    """Eq. (4)'s per-class sigma and latent Gaussian, each estimated on the split the config names,
    and the sigma of every split looked at ({split: [C]}, to show the difference). A sigma from the
    training images is optimistic for new inputs (the autoencoder fitted them), so the default
    takes it from the held-out validation split."""
    sigma, latents = residual_sigma_and_latents(model, splits[sigma_from], batch, max_per_class)
    by_split = {sigma_from: sigma}
    if density_from != sigma_from:
        by_split[density_from], latents = residual_sigma_and_latents(model, splits[density_from], batch, max_per_class)
    return sigma, likelihood.LatentGaussian.fit_to_latents(latents), by_split
