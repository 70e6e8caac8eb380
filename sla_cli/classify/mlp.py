"""The baseline of Table 1: 784 -> hidden ReLU -> 10, cross-entropy, trained on the same images."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sla_cli.classify.data import Split
from sla_cli.classify.adam_loop import train_with_adam


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, n_classes: int):
        super().__init__()
        self.dim, self.hidden, self.n_classes = dim, hidden, n_classes
        self.layer1 = nn.Linear(dim, hidden)
        self.layer2 = nn.Linear(hidden, n_classes)

    def config(self) -> dict:
        return {"dim": self.dim, "hidden": self.hidden, "n_classes": self.n_classes}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer2(torch.relu(self.layer1(x)))


def train_mlp(train: Split, n_classes: int, hidden: int, epochs: int, batch_size: int, lr: float,
              device: torch.device, seed: int, label: str) -> Mlp:
    """Same optimiser, learning-rate schedule and number of passes over the data as the set."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Mlp(train.x.shape[1], hidden, n_classes).to(device)
    steps = -(-len(train) // batch_size)

    def batch_loss(perm: torch.Tensor, s: int) -> torch.Tensor:
        idx = perm[s * batch_size:(s + 1) * batch_size]
        return F.cross_entropy(model(train.x[idx]).float(), train.y[idx])

    return train_with_adam(model, lr, epochs, steps, device, label,
               epoch_order=lambda epoch: torch.randperm(len(train), generator=gen).to(train.y.device),
               batch_loss=batch_loss, describe=lambda v: f"loss {v.item():.3f}")


@torch.no_grad()
def mlp_logits(model: Mlp, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    return torch.cat([model(x[i:i + batch]).float() for i in range(0, len(x), batch)])
