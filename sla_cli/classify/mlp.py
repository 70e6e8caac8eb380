"""The baselines of Table 1: 784 -> hidden ReLU (x layers) -> 10, cross-entropy, trained on the same images.

The paper's MLP has one hidden layer as wide as an autoencoder's; the parameter-matched control has
two hidden layers of the width that gives it about the set's parameter count (``matched_width``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sla_cli.classify.adam_loop import train_with_adam
from sla_cli.classify.data import Split
from sla_cli.classify.model_checkpoints import ModelCheckpoint
from sla_cli.classify.recipe import Recipe


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, n_classes: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.dim, self.hidden, self.n_classes, self.layers = dim, hidden, n_classes, layers
        # after each hidden ReLU (a no-op in eval mode); none at 0, so the default draws no random numbers
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        widths = [dim] + [hidden] * layers + [n_classes]
        for i in range(layers + 1):  # layer1, layer2, ...: the names one-hidden-layer checkpoints already use
            setattr(self, f"layer{i + 1}", nn.Linear(widths[i], widths[i + 1]))

    def config(self) -> dict:
        return {"dim": self.dim, "hidden": self.hidden, "n_classes": self.n_classes, "layers": self.layers}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, self.layers + 1):
            x = self.dropout(torch.relu(getattr(self, f"layer{i}")(x)))
        return getattr(self, f"layer{self.layers + 1}")(x)

    def shape(self) -> str:
        return "-".join(str(w) for w in [self.dim] + [self.hidden] * self.layers + [self.n_classes])


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def mlp_parameters(dim: int, hidden: int, n_classes: int, layers: int) -> int:
    return (dim + 1) * hidden + (layers - 1) * (hidden + 1) * hidden + (hidden + 1) * n_classes


def matched_width(target: int, dim: int, n_classes: int, layers: int) -> int:
    """The hidden width whose MLP has the parameter count closest to ``target``."""
    # (layers - 1) h^2 + (dim + layers + n_classes) h + n_classes = target: the positive root, then the
    # nearer of the two integers around it
    a, b, c = layers - 1, dim + layers + n_classes, n_classes - target
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = [max(1, math.floor(root)), max(1, math.ceil(root))]
    return min(candidates, key=lambda h: abs(mlp_parameters(dim, h, n_classes, layers) - target))


def train_mlp(
    train: Split,
    n_classes: int,
    hidden: int,
    recipe: Recipe,
    batch_size: int,
    lr: float,
    device: torch.device,
    seed: int,
    label: str,
    layers: int = 1,
    checkpoint: ModelCheckpoint | None = None,
) -> Mlp:
    """Same optimiser, learning-rate schedule and number of passes over the data as the set."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = Mlp(train.x.shape[1], hidden, n_classes, layers, recipe.dropout).to(device)
    steps = -(-len(train) // batch_size)

    def batch_loss(perm: torch.Tensor, s: int) -> torch.Tensor:
        idx = perm[s * batch_size : (s + 1) * batch_size]
        return F.cross_entropy(model(train.x[idx]).float(), train.y[idx]) + recipe.l2_penalty(model)

    train_with_adam(
        model.train(),
        lr,
        recipe.epochs_for(steps),
        steps,
        device,
        label,
        epoch_order=lambda epoch: torch.randperm(len(train), generator=gen).to(train.y.device),
        batch_loss=batch_loss,
        describe=lambda v: f"loss {v.item():.3f}",
        checkpoint=checkpoint,
        generator=gen,
    )
    return model.eval()  # dropout off from here on, whatever mode the shared loop leaves it in


@torch.no_grad()
def mlp_logits(model: Mlp, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    return torch.cat([model(x[i : i + batch]).float() for i in range(0, len(x), batch)])
