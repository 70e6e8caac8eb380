"""One training step of the whole set, self or cross, as a handful of batched matmuls.

Shapes: ``x[C, B, D]`` is every context's view of the same B digits; ``weight[C, 1, D]`` is each
context's mask, normalised (see ``loss_weights``); ``seen[C, B]`` (optional, ``train.views_per_digit``)
says which views of each digit the training set holds. Cross-training encodes all views, then
decoder c reconstructs its own view x[c] from the latent of encoder ``perm[c]`` (or, per digit,
``perm[c, b]``: see ``held_view_sources``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sla_cli.likelihood import MIN_LOG_SIGMA
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import autocast
from sla_cli.train import fast_step


def loss_weights(masks: Tensor) -> Tensor:
    """masks[C, H, W] in 0..1 -> weight[C, 1, D].

    One mask convention for training and for the likelihood (``likelihood.score``): a pixel's
    squared error counts in proportion to its mask m, the share of the pixel the face covers. For a
    0/1 mask this is the paper's "residual times mask"; at the face's antialiased edge it counts
    each pixel's Gaussian log-density m times, which keeps eq. (4)'s normaliser finite (weighting
    by m**2, i.e. sigma / m, would send it to infinity as m -> 0) and gives J^T J the same weights.
    Each context's weights sum to 1/C: the loss is the mean over contexts of each context's
    mask-weighted mean squared error per pixel (a context with a small face is not drowned out).
    """
    w = masks.reshape(masks.shape[0], 1, -1).float()
    return w / w.sum(-1, keepdim=True).clamp_min(1e-12) / masks.shape[0]


def random_derangement(n: int, generator: torch.Generator) -> Tensor:
    """A random permutation with no fixed point (n >= 2): every decoder gets another context's latent."""
    if n < 2:
        return torch.arange(n)
    while True:  # about e tries on average
        perm = torch.randperm(n, generator=generator)
        if not bool((perm == torch.arange(n)).any()):
            return perm


def held_view_sources(seen: Tensor, keys: Tensor) -> Tensor:
    """source[C, B] for cross-training on the views the training set holds (``train.views_per_digit``).

    One derangement of the contexts for the whole batch pairs two held views of a digit with
    probability about (k/C)**2: at k = 2 of 100 contexts a cross step would train on almost nothing,
    and a sweep over k would measure that rather than sharing. Instead each digit's held views are
    put in a random cycle (``keys[C, B]`` uniform, drawn by the caller) and each is decoded from the
    next one: every held view of a digit with two or more gets a partner, and each encoder is used
    once, as with the derangement. Views not held, and a digit's only view, get themselves (c), which
    the cross loss drops.
    """
    held = seen > 0
    order = torch.where(held, keys, keys + 1).argsort(dim=0)  # per digit: its held contexts first, shuffled
    rank = order.argsort(dim=0)  # rank[c, b]: where context c stands in digit b's order
    n_held = held.sum(0, keepdim=True).clamp_min(1)
    following = torch.where(rank < n_held, (rank + 1) % n_held, rank)
    return order.gather(0, following)


def cross_pairs(z: Tensor, perm: Tensor, seen: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """The latents each decoder decodes in a cross step, and which (context, digit) pairs count.

    ``perm[C]``: decoder c decodes encoder perm[c]'s latent for every digit; ``perm[C, B]``: per digit.
    """
    latents = z[perm] if perm.dim() == 1 else z.gather(0, perm[:, :, None].expand_as(z))
    return latents, pair_mask(perm, seen)


def pair_mask(perm: Tensor, seen: Tensor | None) -> Tensor | None:
    """[C, B] 0/1, or None for all: a pair counts only when the training set holds both views, the
    input and the target, and they differ."""
    if perm.dim() == 1:
        return None if seen is None else seen * seen[perm]
    distinct = (perm != torch.arange(perm.shape[0], device=perm.device)[:, None]).float()
    return distinct if seen is None else distinct * seen * seen.gather(0, perm)


def masked_context_loss(
    model: AutoencoderSet, logits: Tensor, target: Tensor, weight: Tensor, seen: Tensor | None = None
) -> Tensor:
    """Mean over the batch of the mask-weighted error; row c of ``logits`` is decoder c's output.

    With a learned sigma it is the Gaussian negative log-likelihood (less its constant) with
    decoder c's per-pixel log-sigma, otherwise the squared residual. ``seen[C, B]`` (0/1) drops
    the (context, digit) pairs the training set does not hold: they give no gradient at all.
    """
    residual = torch.sigmoid(logits.float()) - target
    if model.log_sigma is None:
        per_pixel = residual.square()
    else:
        log_sigma = model.log_sigma.clamp_min(MIN_LOG_SIGMA)[:, None, :]
        per_pixel = 0.5 * residual.square() * torch.exp(-2 * log_sigma) + log_sigma
    if seen is not None:
        weight = weight * seen[:, :, None].to(weight.dtype)  # [C, B, D]
    return (per_pixel * weight).sum() / target.shape[1]


def step_losses(
    model: AutoencoderSet, x: Tensor, weight: Tensor, kind: str, perm: Tensor, seen: Tensor | None = None
) -> dict[str, Tensor]:
    """The losses of one step: kind is "self", "cross" or "mixed" (both, sharing one encode and one decode).

    ``perm`` says which encoder feeds each decoder in the cross loss (see ``cross_pairs``).
    """
    z = model.encode(x)
    if kind == "self":
        return {"self": masked_context_loss(model, model.decode_logits(z), x, weight, seen)}
    z_cross, seen_cross = cross_pairs(z, perm, seen)
    if kind == "cross":
        return {"cross": masked_context_loss(model, model.decode_logits(z_cross), x, weight, seen_cross)}
    b = x.shape[1]
    logits = model.decode_logits(torch.cat([z, z_cross], dim=1))  # [C, 2B, D]: one batched decode
    return {
        "self": masked_context_loss(model, logits[:, :b], x, weight, seen),
        "cross": masked_context_loss(model, logits[:, b:], x, weight, seen_cross),
    }


def step_kind(step: int, schedule: str, self_steps: int, cross_steps: int) -> str:
    """Step numbers start at 0; ``alternate`` runs self_steps self steps, then cross_steps cross steps
    (cross_steps=0: self-training only, the baseline without a shared latent space)."""
    if schedule == "mixed":
        return "mixed"
    return "self" if step % (self_steps + cross_steps) < self_steps else "cross"


def train_step(
    model: AutoencoderSet,
    optimizer: torch.optim.Optimizer,
    x: Tensor,
    weight: Tensor,
    kind: str,
    perm: Tensor,
    cross_weight: float = 1.0,
    seen: Tensor | None = None,
    fast: bool = True,
) -> dict[str, Tensor]:
    """One Adam step; returns the detached losses (no host sync: the caller checks them in bulk).

    Where ``fast_step`` covers the model (the CPU's float32 self and cross steps of the tied set) it
    computes the same gradients, bit for bit, at about half autograd's cost; ``fast=False`` forces
    autograd's path, the reference it is tested and timed against (bench/train_step.py).
    """
    with autocast(x.device):
        if fast and fast_step.covers(model, x, kind):
            pairs = None if kind == "self" else perm
            pair_seen = seen if kind == "self" else pair_mask(perm, seen)
            loss = fast_step.FastStep.for_model(model).loss_and_grads(model, x, weight, pairs, pair_seen)
            optimizer.step()
            return {kind: loss}
        losses = step_losses(model, x, weight, kind, perm, seen)
    total = (
        losses.get("self", 0) + cross_weight * losses.get("cross", 0)
        if kind == "mixed"
        else next(iter(losses.values()))
    )
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return {k: v.detach() for k, v in losses.items()}


def make_optimizer(model: AutoencoderSet, lr: float, device: torch.device) -> torch.optim.Adam:
    # fused Adam: one pass over each parameter instead of ~10 elementwise kernels; on CPU too, where
    # the update was otherwise as slow as the matmuls of a step (and it stays deterministic)
    return torch.optim.Adam(model.parameters(), lr=lr, fused=device.type in ("cuda", "cpu"))
