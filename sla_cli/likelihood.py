"""The three terms of eq. (4)/(5), in one place: classifier, one-shot and concept stages share it.

For an AutoencoderSet, inputs ``x[R, B, D]`` and the member serving each row, ``score`` returns
per-row terms of

    log p(x) = log N(x; f(z*), sigma^2)                 reconstruction term (with its normaliser)
             + log p(z*)                                 latent density at z* = g(x)
             + L/2 log(2 pi) - 1/2 logdet(J^T J / sigma^2)   Laplace volume, J = df/dz at z*

The decoder Jacobian is analytic for this architecture, f(z) = sigmoid(W2^T relu(W1^T z + b1) + b2):
J = diag(sigmoid') W2^T diag(relu') W1^T, computed for every row and image in one batched matmul
(checked against autograd in tests/test_likelihood.py). It stays differentiable, so attacks can
take gradients through the full likelihood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet, pick

# Below 1/100 of the intensity range a learned sigma only chases quantisation noise, and an
# unbounded log-sigma would let the NLL run to minus infinity on pixels that are always 0.
MIN_LOG_SIGMA = math.log(0.01)


@dataclass
class Terms:
    """Per-row, per-image terms, each ``[R, B]``."""

    sqerr: Tensor  # sum over (unmasked) pixels of (x - f(z*))^2: the paper's recon test uses -sqerr
    recon: Tensor  # log N(x; f(z*), sigma^2 I) over unmasked pixels
    log_pz: Tensor  # log p(z*); zeros without a density
    logdet: Tensor  # L/2 log 2pi - 1/2 logdet(J^T diag(mask/sigma^2) J); zeros unless asked for

    @property
    def total(self) -> Tensor:
        return self.recon + self.log_pz + self.logdet


class LatentGaussian:
    """One full-covariance Gaussian per member, fitted to that member's latents of some images."""

    def __init__(self, mean: Tensor, chol: Tensor):
        self.mean, self.chol = mean, chol  # [C, L], [C, L, L] lower-triangular

    @classmethod
    def fit_to_latents(cls, latents: list[Tensor], shrink: float = 1e-3) -> LatentGaussian:
        """Mean and shrunk covariance of each member's latents ``latents[c]`` [N_c, L]."""
        means, chols = [], []
        for z in latents:  # z [N_c, L]
            mu = z.mean(0)
            cov = torch.cov((z - mu).T)
            # shrink toward the diagonal so a few hundred samples still give a well-conditioned cov
            cov = (
                (1 - shrink) * cov
                + shrink * torch.diag(torch.diagonal(cov))
                + 1e-6 * torch.eye(len(mu), device=z.device)
            )
            means.append(mu)
            chols.append(torch.linalg.cholesky(cov))
        return cls(torch.stack(means), torch.stack(chols))

    def log_prob(self, z: Tensor, members: Tensor | None = None) -> Tensor:
        mean = self.mean if members is None else self.mean[members]
        chol = self.chol if members is None else self.chol[members]
        diff = (z - mean[:, None]).transpose(1, 2)  # [R, L, B]
        white = torch.linalg.solve_triangular(chol, diff, upper=False)  # [R, L, B]
        half_logdet = torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(-1)  # [R]
        dim = z.shape[-1]
        return -0.5 * (white**2).sum(1) - half_logdet[:, None] - 0.5 * dim * math.log(2 * math.pi)

    def state(self) -> dict:
        return {"mean": self.mean.cpu(), "chol": self.chol.cpu()}

    @classmethod
    def from_state(cls, state: dict, device) -> LatentGaussian:
        return cls(state["mean"].to(device), state["chol"].to(device))


def decode_with_jacobian(model: AutoencoderSet, z: Tensor, members: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """(f(z) [R, B, D], J^T [R, B, L, D]) for the decoder serving each row."""
    w1, w2 = model.decoder_weights(members)
    b1, b2 = pick(model.dec1_b, members), pick(model.dec2_b, members)
    pre = torch.baddbmm(b1[:, None], z, w1)  # [R, B, H]
    out = torch.sigmoid(torch.baddbmm(b2[:, None], torch.relu(pre), w2))  # [R, B, D]
    r, b, _ = z.shape
    gated = w1[:, None] * (pre > 0).to(w1.dtype)[:, :, None, :]  # [R, B, L, H]: relu' folded into W1
    jt = torch.bmm(gated.reshape(r, b * z.shape[-1], -1), w2).reshape(r, b, z.shape[-1], -1)
    return out, jt * (out * (1 - out))[:, :, None, :]


def model_sigma(model: AutoencoderSet) -> Tensor | None:
    """The model's learned per-pixel sigma [C, D] (``learn_sigma``, section 9), bounded as in training; else None."""
    if model.log_sigma is None:
        return None
    return model.log_sigma.clamp_min(MIN_LOG_SIGMA).exp()


def _per_pixel(sigma: Tensor | None, members: Tensor | None, rows: int, dim: int, like: Tensor) -> Tensor:
    """sigma as [R, 1 or D]: scalar per member ([C]) or per pixel ([C, D]); 1 when None."""
    if sigma is None:
        return torch.ones(rows, 1, device=like.device, dtype=like.dtype)
    s = pick(sigma, members)
    return s[:, None] if s.dim() == 1 else s


def score(
    model: AutoencoderSet,
    x: Tensor,
    members: Tensor | None = None,
    mask: Tensor | None = None,
    sigma: Tensor | None = None,
    density: LatentGaussian | None = None,
    logdet: bool = True,
    jitter: float = 1e-6,
) -> Terms:
    """Eq. (4)'s terms for x[R, B, D].

    ``sigma``: a scalar per member [C] or per pixel [C, D]; None uses the model's learned per-pixel
    sigma when it has one (``learn_sigma``), else 1. ``mask`` ([R, B, D] or [R, D], in 0..1) weights
    each pixel's Gaussian log-density by m, in the residual and in J^T J alike (0 drops a pixel, as
    an infinite sigma would); training weights squared residuals the same way (``train.loop.loss_weights``).
    """
    rows, _, dim = x.shape
    if sigma is None:
        sigma = model_sigma(model)
    z = model.encode(x, members)
    s = _per_pixel(sigma, members, rows, dim, x)  # [R, 1 or D]
    s = s[:, None]  # [R, 1, 1 or D]
    m = torch.ones_like(x) if mask is None else (mask if mask.dim() == 3 else mask[:, None]).expand_as(x).to(x.dtype)
    if logdet:
        out, jt = decode_with_jacobian(model, z, members)
    else:
        out, jt = model.decode(z, members), None
    resid2 = (x - out) ** 2 * m
    sqerr = resid2.sum(-1)
    n_pix = m.sum(-1)
    recon = -(resid2 / (2 * s**2)).sum(-1) - (m * torch.log(s)).sum(-1) - 0.5 * n_pix * math.log(2 * math.pi)
    log_pz = density.log_prob(z, members) if density is not None else torch.zeros_like(sqerr)
    if jt is None:
        return Terms(sqerr, recon, log_pz, torch.zeros_like(sqerr))
    weight = (m / s**2)[:, :, None, :]  # [R, B, 1, D]
    gram = torch.matmul(jt * weight, jt.transpose(-1, -2))  # [R, B, L, L]
    lat = z.shape[-1]
    gram = gram + jitter * torch.eye(lat, device=x.device, dtype=gram.dtype)
    logdet_term = 0.5 * lat * math.log(2 * math.pi) - 0.5 * torch.linalg.slogdet(gram)[1]
    return Terms(sqerr, recon, log_pz, logdet_term)
