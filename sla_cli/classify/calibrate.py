"""Eq. (5)'s constants fitted by back-propagation, as the paper proposes after it.

Per class c: logit_c = a_c + sum_k w_ck * feature_ck / scale_k over the terms
(-|x - f(z*)|^2, log p(z*), volume term). Fitted by cross-entropy on the validation split, starting
from the recon scoring (w = (t, 0, 0), a = 0, the temperature t fitted first), and never kept if it
classifies the validation split worse than recon does: then the recon-equivalent weights stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from sla_cli.classify.metrics import accuracy


@dataclass
class Calibration:
    bias: Tensor  # [C]
    weight: Tensor  # [C, K]
    scale: Tensor  # [K]
    fell_back: bool = False
    val_accuracy: float = 0.0
    val_accuracy_recon: float = 0.0

    def apply(self, features: Tensor) -> Tensor:
        """features [N, C, K] -> logits [N, C] (differentiable in features)."""
        return self.bias + (features / self.scale * self.weight).sum(-1)

    def state(self) -> dict:
        return {
            "bias": self.bias.cpu(),
            "weight": self.weight.cpu(),
            "scale": self.scale.cpu(),
            "fell_back": self.fell_back,
            "val_accuracy": self.val_accuracy,
            "val_accuracy_recon": self.val_accuracy_recon,
        }

    @classmethod
    def from_state(cls, s: dict, device) -> Calibration:
        return cls(
            s["bias"].to(device),
            s["weight"].to(device),
            s["scale"].to(device),
            bool(s["fell_back"]),
            float(s["val_accuracy"]),
            float(s["val_accuracy_recon"]),
        )


def _lbfgs(params: list[Tensor], loss_fn, steps: int) -> None:
    if steps <= 0:
        return
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        value = loss_fn()
        value.backward()
        return value

    opt.step(closure)


def fit_calibration(features: Tensor, y: Tensor, steps: int = 100, l2: float = 1e-3) -> Calibration:
    """features [N, C, K] on the validation split (K >= 1, column 0 = -sqerr)."""
    features, y = features.detach().float(), y
    n_classes, k = features.shape[1], features.shape[2]
    scale = features.reshape(-1, k).std(0).clamp_min(1e-6)
    f = features / scale
    recon_acc = accuracy(f[..., 0], y)

    log_t = torch.zeros((), device=f.device, requires_grad=True)
    _lbfgs([log_t], lambda: F.cross_entropy(f[..., 0] * log_t.exp(), y), steps)
    t = float(log_t.detach().exp())
    start_w = torch.zeros(n_classes, k, device=f.device)
    start_w[:, 0] = t
    fallback = Calibration(torch.zeros(n_classes, device=f.device), start_w.clone(), scale, True, recon_acc, recon_acc)

    bias = torch.zeros(n_classes, device=f.device, requires_grad=True)
    weight = start_w.clone().requires_grad_(True)

    def loss():
        logits = bias + (f * weight).sum(-1)
        return F.cross_entropy(logits, y) + l2 * ((weight - start_w) ** 2).sum()

    _lbfgs([bias, weight], loss, steps)
    fitted = Calibration(bias.detach(), weight.detach(), scale, False, 0.0, recon_acc)
    fitted_acc = accuracy(fitted.apply(features), y)
    fitted.val_accuracy = fitted_acc
    if not torch.isfinite(fitted.weight).all() or fitted_acc < recon_acc:
        return fallback
    return fitted
