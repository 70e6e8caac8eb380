"""The naive form of the set: one ``nn.Module`` per context, looped over in Python.

It is the reference the batched ``AutoencoderSet`` is tested against (same outputs from the same
weights) and the baseline ``bench/train_step.py`` times it against. Never used for real training.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sla_cli.models.ae_set import AutoencoderSet


class ContextAutoencoder(nn.Module):
    """One member of Table 1: D -> hidden (ReLU) -> latent -> hidden (ReLU) -> D (sigmoid)."""

    def __init__(self, dim: int, hidden: int, latent: int, tied: bool = True):
        super().__init__()
        self.tied = tied
        self.enc1 = nn.Linear(dim, hidden)
        self.enc2 = nn.Linear(hidden, latent)
        if tied:
            self.dec1_b = nn.Parameter(torch.zeros(hidden))
            self.dec2_b = nn.Parameter(torch.zeros(dim))
        else:
            self.dec1 = nn.Linear(latent, hidden)
            self.dec2 = nn.Linear(hidden, dim)

    def encode(self, x: Tensor) -> Tensor:
        return self.enc2(torch.relu(self.enc1(x)))

    def decode_logits(self, z: Tensor) -> Tensor:
        if self.tied:  # nn.Linear stores [out, in]: the decoder uses the encoder's matrices transposed
            h = torch.relu(z @ self.enc2.weight + self.dec1_b)
            return h @ self.enc1.weight + self.dec2_b
        return self.dec2(torch.relu(self.dec1(z)))

    def decode(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


def naive_copy(ae_set: AutoencoderSet) -> nn.ModuleList:
    """C separate modules holding exactly the set's weights (copies, not views)."""
    members = nn.ModuleList()
    for c in range(ae_set.n_members):
        m = ContextAutoencoder(ae_set.dim, ae_set.hidden, ae_set.latent, ae_set.tied)
        with torch.no_grad():
            m.enc1.weight.copy_(ae_set.enc1_w[c].T)
            m.enc1.bias.copy_(ae_set.enc1_b[c])
            m.enc2.weight.copy_(ae_set.enc2_w[c].T)
            m.enc2.bias.copy_(ae_set.enc2_b[c])
            if ae_set.tied:
                m.dec1_b.copy_(ae_set.dec1_b[c])
                m.dec2_b.copy_(ae_set.dec2_b[c])
            else:
                m.dec1.weight.copy_(ae_set.dec1_w[c].T)
                m.dec1.bias.copy_(ae_set.dec1_b[c])
                m.dec2.weight.copy_(ae_set.dec2_w[c].T)
                m.dec2.bias.copy_(ae_set.dec2_b[c])
        members.append(m.to(ae_set.enc1_w.device))
    return members
