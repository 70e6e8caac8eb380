"""White-box L-inf attacks (FGSM, PGD) through whichever scoring classifies, with checks that a
scoring is not merely hiding its gradient: the share of images whose input gradient is zero, and
a transfer attack (examples crafted on the MLP), which a truly robust model must also resist."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

LogitsFn = Callable[[Tensor], Tensor]


def margin_loss(logits: Tensor, y: Tensor) -> Tensor:
    """Best wrong logit minus the true one, per image. Unlike cross-entropy it cannot saturate to a
    zero gradient when the softmax is certain (the set's logits span hundreds of nats)."""
    true = logits.gather(1, y[:, None])[:, 0]
    wrong = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
    return wrong - true


def _grad(fn: LogitsFn, x: Tensor, y: Tensor) -> Tensor:
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = margin_loss(fn(x), y).sum()
        (g,) = torch.autograd.grad(loss, x)
    return g


def fgsm(fn: LogitsFn, x: Tensor, y: Tensor, eps: float) -> Tensor:
    return (x + eps * _grad(fn, x, y).sign()).clamp(0, 1).detach()


def pgd(fn: LogitsFn, x: Tensor, y: Tensor, eps: float, steps: int, gen: torch.Generator) -> Tensor:
    alpha = 2.5 * eps / max(steps, 1)
    start = (torch.rand(x.shape, generator=gen).to(x.device) * 2 - 1) * eps
    adv = (x + start).clamp(0, 1)
    for _ in range(steps):
        adv = adv + alpha * _grad(fn, adv, y).sign()
        adv = torch.min(torch.max(adv, x - eps), x + eps).clamp(0, 1).detach()
    return adv


def batched(fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor, batch: int) -> Tensor:
    return torch.cat([fn(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def correct(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> Tensor:
    """Bool [N]: which images fn classifies correctly."""
    return torch.cat([fn(x[i:i + batch]).argmax(1) == y[i:i + batch] for i in range(0, len(x), batch)])


def accuracy(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> float:
    return float(correct(fn, x, y, batch).float().mean())


def gradient_stats(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> dict:
    norms = batched(lambda a, b: _grad(fn, a, b).flatten(1).norm(dim=1), x, y, batch)
    return {"zero_gradient_fraction": float((norms == 0).float().mean()),
            "median_gradient_norm": float(norms.median()),
            "finite": bool(torch.isfinite(norms).all())}
