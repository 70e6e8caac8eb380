"""White-box L-inf attacks (FGSM, PGD) through whichever scoring classifies, with checks that a
scoring is not merely hiding its gradient: the share of images whose input gradient is zero, and
a transfer attack (examples crafted on the MLP), which a truly robust model must also resist."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

LogitsFn = Callable[[Tensor], Tensor]


def margin_loss(logits: Tensor, y: Tensor) -> Tensor:
    """Best wrong logit minus the true one, per image. Unlike cross-entropy it cannot saturate to a
    zero gradient when the softmax is certain (the set's logits span hundreds of nats)."""
    true = logits.gather(1, y[:, None])[:, 0]
    wrong = logits.masked_fill(torch.nn.functional.one_hot(y, logits.shape[1]).bool(), float("-inf")).amax(1)
    return wrong - true


def _grad_and_loss(fn: LogitsFn, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """(d margin / dx, margin per image) at x, from one forward pass."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = margin_loss(fn(x), y)
        (g,) = torch.autograd.grad(loss.sum(), x)
    return g, loss.detach().float()


def _grad(fn: LogitsFn, x: Tensor, y: Tensor) -> Tensor:
    return _grad_and_loss(fn, x, y)[0]


def fgsm(fn: LogitsFn, x: Tensor, y: Tensor, eps: float) -> Tensor:
    return (x + eps * _grad(fn, x, y).sign()).clamp(0, 1).detach()


def pgd(fn: LogitsFn, x: Tensor, y: Tensor, eps: float, steps: int, gen: torch.Generator, restarts: int = 1) -> Tensor:
    """L-inf PGD from ``restarts`` random starts; per image, the iterate with the highest margin loss
    over all steps and restarts (the first misclassifying one scores above every correct one), so
    more steps or restarts can only make the attack stronger."""
    alpha = 2.5 * eps / max(steps, 1)
    best, best_loss = x.clone(), torch.full((len(x),), float("-inf"), device=x.device)

    def keep(adv: Tensor, loss: Tensor) -> None:
        better = loss > best_loss
        best[better], best_loss[better] = adv[better], loss[better]

    for _ in range(restarts):
        start = (torch.rand(x.shape, generator=gen).to(x.device) * 2 - 1) * eps
        adv = (x + start).clamp(0, 1)
        for _ in range(steps):
            g, loss = _grad_and_loss(fn, adv, y)  # the loss of this iterate comes with its gradient
            keep(adv, loss)
            adv = torch.min(torch.max(adv + alpha * g.sign(), x - eps), x + eps).clamp(0, 1).detach()
        with torch.no_grad():
            keep(adv, margin_loss(fn(adv), y).float())
    return best.detach()


def batched(fn: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor, batch: int) -> Tensor:
    return torch.cat([fn(x[i : i + batch], y[i : i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def correct(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> Tensor:
    """Bool [N]: which images fn classifies correctly."""
    return torch.cat([fn(x[i : i + batch]).argmax(1) == y[i : i + batch] for i in range(0, len(x), batch)])


def accuracy(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> float:
    return float(correct(fn, x, y, batch).float().mean())


def gradient_stats(fn: LogitsFn, x: Tensor, y: Tensor, batch: int) -> dict:
    norms = batched(lambda a, b: _grad(fn, a, b).flatten(1).norm(dim=1), x, y, batch)
    return {
        "zero_gradient_fraction": float((norms == 0).float().mean()),
        "median_gradient_norm": float(norms.median()),
        "finite": bool(torch.isfinite(norms).all()),
    }
