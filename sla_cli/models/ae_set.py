"""A set of C autoencoders held as stacked tensors, run as one batched matmul.

Each member follows the paper's Table 1: D -> hidden (ReLU) -> latent (linear) -> hidden (ReLU)
-> D (sigmoid). With ``tied=True`` the decoder's weights are the transposes of the encoder's (the
paper's choice); biases are never tied. Inputs are ``x[C, B, D]``: row c goes through member c.
``members`` picks which members serve each row, so a latent from member i can be decoded by
member j (cross-training, context transfer) without copying any weights.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def _uniform(shape: tuple[int, ...], fan_in: int) -> nn.Parameter:
    bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default scale
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


def pick(t: Tensor, members: Tensor | None) -> Tensor:
    """The rows of a stacked parameter that serve each input row (all of them, in order, by default)."""
    return t if members is None else t[members]


class AutoencoderSet(nn.Module):
    def __init__(
        self, n_members: int, dim: int, hidden: int, latent: int, tied: bool = True, learn_sigma: bool = False
    ):
        super().__init__()
        self.n_members, self.dim, self.hidden, self.latent, self.tied = n_members, dim, hidden, latent, tied
        c = n_members
        self.enc1_w = _uniform((c, dim, hidden), dim)
        self.enc1_b = _uniform((c, hidden), dim)
        self.enc2_w = _uniform((c, hidden, latent), hidden)
        self.enc2_b = _uniform((c, latent), hidden)
        if not tied:
            self.dec1_w = _uniform((c, latent, hidden), latent)
            self.dec2_w = _uniform((c, hidden, dim), hidden)
        self.dec1_b = _uniform((c, hidden), latent)
        self.dec2_b = _uniform((c, dim), hidden)
        # Per-pixel log standard deviation of the residual (section 9's "more precise deviation").
        self.log_sigma = nn.Parameter(torch.zeros(c, dim)) if learn_sigma else None

    def config(self) -> dict:
        return {
            "n_members": self.n_members,
            "dim": self.dim,
            "hidden": self.hidden,
            "latent": self.latent,
            "tied": self.tied,
            "learn_sigma": self.log_sigma is not None,
        }

    def decoder_weights(self, members: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(W1 [R, L, H], W2 [R, H, D]) of the decoder serving each row; tied: the encoder's transposes."""
        if self.tied:
            w1, w2 = self.enc2_w.transpose(1, 2), self.enc1_w.transpose(1, 2)
        else:
            w1, w2 = self.dec1_w, self.dec2_w
        return pick(w1, members), pick(w2, members)

    def encode(self, x: Tensor, members: Tensor | None = None) -> Tensor:
        """x[R, B, D] -> z[R, B, L]; row r uses member ``members[r]`` (default: member r)."""
        h = torch.relu(torch.baddbmm(pick(self.enc1_b, members)[:, None], x, pick(self.enc1_w, members)))
        return torch.baddbmm(pick(self.enc2_b, members)[:, None], h, pick(self.enc2_w, members))

    def decode_logits(self, z: Tensor, members: Tensor | None = None) -> Tensor:
        """z[R, B, L] -> pre-sigmoid output [R, B, D] (with tied weights, a transposed view of [R, D, B])."""
        if self.tied:
            # Run the decoder transposed, W @ h^T, so that the tied weights' gradients come out in the
            # encoder's own [C, in, out] layout: no strided add of a transposed gradient (2x a CPU step).
            ht = torch.relu(
                torch.baddbmm(pick(self.dec1_b, members)[:, :, None], pick(self.enc2_w, members), z.transpose(1, 2))
            )
            return torch.baddbmm(pick(self.dec2_b, members)[:, :, None], pick(self.enc1_w, members), ht).transpose(1, 2)
        w1, w2 = self.decoder_weights(members)
        h = torch.relu(torch.baddbmm(pick(self.dec1_b, members)[:, None], z, w1))
        return torch.baddbmm(pick(self.dec2_b, members)[:, None], h, w2)

    def decode(self, z: Tensor, members: Tensor | None = None) -> Tensor:
        return torch.sigmoid(self.decode_logits(z, members))

    def forward(self, x: Tensor, members: Tensor | None = None) -> Tensor:
        return self.decode(self.encode(x, members), members)
