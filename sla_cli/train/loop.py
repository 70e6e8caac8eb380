"""One training step of the whole set, self or cross, as a handful of batched matmuls.

Shapes: ``x[C, B, D]`` is every context's view of the same B digits; ``weight[C, 1, D]`` is each
context's mask squared and normalised (see ``loss_weights``). Cross-training encodes all views,
then decoder c reconstructs its own view x[c] from the latent of encoder ``perm[c]``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import autocast

# Below 1/100 of the intensity range a learned sigma only chases quantisation noise, and an
# unbounded log-sigma would let the NLL run to minus infinity on pixels that are always 0.
MIN_LOG_SIGMA = math.log(0.01)


def loss_weights(masks: Tensor) -> Tensor:
    """masks[C, H, W] in 0..1 -> weight[C, 1, D].

    The paper multiplies the residual by the mask, so a pixel's squared error counts mask**2.
    Each context's weights sum to 1/C: the loss is the mean over contexts of each context's
    mask-weighted mean squared error per pixel (a context with a small face is not drowned out).
    """
    w = masks.reshape(masks.shape[0], 1, -1).float() ** 2
    return w / w.sum(-1, keepdim=True).clamp_min(1e-12) / masks.shape[0]


def random_derangement(n: int, generator: torch.Generator) -> Tensor:
    """A random permutation with no fixed point (n >= 2): every decoder gets another context's latent."""
    if n < 2:
        return torch.arange(n)
    while True:  # about e tries on average
        perm = torch.randperm(n, generator=generator)
        if not bool((perm == torch.arange(n)).any()):
            return perm


def reconstruction_loss(model: AutoencoderSet, logits: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """Mean over the batch of the mask-weighted error; row c of ``logits`` is decoder c's output.

    With a learned sigma it is the Gaussian negative log-likelihood (less its constant) with
    decoder c's per-pixel log-sigma, otherwise the squared residual.
    """
    residual = torch.sigmoid(logits.float()) - target
    if model.log_sigma is None:
        per_pixel = residual.square()
    else:
        log_sigma = model.log_sigma.clamp_min(MIN_LOG_SIGMA)[:, None, :]
        per_pixel = 0.5 * residual.square() * torch.exp(-2 * log_sigma) + log_sigma
    return (per_pixel * weight).sum() / target.shape[1]


def step_losses(model: AutoencoderSet, x: Tensor, weight: Tensor, kind: str, perm: Tensor) -> dict[str, Tensor]:
    """The losses of one step: kind is "self", "cross" or "mixed" (both, sharing one encode and one decode)."""
    z = model.encode(x)
    if kind == "self":
        return {"self": reconstruction_loss(model, model.decode_logits(z), x, weight)}
    if kind == "cross":
        return {"cross": reconstruction_loss(model, model.decode_logits(z[perm]), x, weight)}
    b = x.shape[1]
    logits = model.decode_logits(torch.cat([z, z[perm]], dim=1))  # [C, 2B, D]: one batched decode
    return {"self": reconstruction_loss(model, logits[:, :b], x, weight),
            "cross": reconstruction_loss(model, logits[:, b:], x, weight)}


def step_kind(step: int, schedule: str, self_steps: int, cross_steps: int) -> str:
    """Step numbers start at 0; ``alternate`` runs self_steps self steps, then cross_steps cross steps."""
    if schedule == "mixed":
        return "mixed"
    return "self" if step % (self_steps + cross_steps) < self_steps else "cross"


def train_step(model: AutoencoderSet, optimizer: torch.optim.Optimizer, x: Tensor, weight: Tensor, kind: str,
               perm: Tensor, cross_weight: float = 1.0) -> dict[str, Tensor]:
    """One Adam step; returns the detached losses (no host sync: the caller checks them in bulk)."""
    with autocast(x.device):
        losses = step_losses(model, x, weight, kind, perm)
    total = losses.get("self", 0) + cross_weight * losses.get("cross", 0) if kind == "mixed" else next(iter(losses.values()))
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return {k: v.detach() for k, v in losses.items()}


def make_optimizer(model: AutoencoderSet, lr: float, device: torch.device) -> torch.optim.Adam:
    # fused Adam: one pass over each parameter instead of ~10 elementwise kernels; on CPU too, where
    # the update was otherwise as slow as the matmuls of a step (and it stays deterministic)
    return torch.optim.Adam(model.parameters(), lr=lr, fused=device.type in ("cuda", "cpu"))
