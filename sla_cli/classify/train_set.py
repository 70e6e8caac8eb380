"""Train the ten class autoencoders as one batched set: member c only ever sees class c."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sla_cli.classify.data import Split, class_epoch_indices
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.classify.fit import fit


def reconstruction_loss(model: AutoencoderSet, x: torch.Tensor, loss: str) -> torch.Tensor:
    """Summed over members (their parameters are disjoint, so each learns as if alone), mean over images."""
    logits = model.decode_logits(model.encode(x))
    if loss == "bce":
        per_image = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none").sum(-1)
    else:
        per_image = ((torch.sigmoid(logits.float()) - x) ** 2).sum(-1)
    return per_image.mean(-1).sum()


def train_set(train: Split, n_classes: int, hidden: int, latent: int, epochs: int, batch_size: int, lr: float,
              loss: str, device: torch.device, seed: int, label: str) -> AutoencoderSet:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = AutoencoderSet(n_classes, train.x.shape[1], hidden, latent, tied=True).to(device)
    first = class_epoch_indices(train.y, n_classes, gen)
    steps = -(-first.shape[1] // batch_size)

    def batch_loss(idx: torch.Tensor, s: int) -> torch.Tensor:
        return reconstruction_loss(model, train.x[idx[:, s * batch_size:(s + 1) * batch_size]], loss)  # [C, B, 784]

    return fit(model, lr, epochs, steps, device, label,
               epoch_order=lambda epoch: first if epoch == 0 else class_epoch_indices(train.y, n_classes, gen),
               batch_loss=batch_loss, describe=lambda v: f"loss/class {v.item() / n_classes:.2f}", show_every=20)
