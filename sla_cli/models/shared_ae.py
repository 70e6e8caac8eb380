"""One autoencoder serving every context: the one-shot stage's "one shared autoencoder" baseline.

It is a one-member ``AutoencoderSet`` of the set's shape (hidden, latent, tied), so whatever runs a
set runs it unchanged: the rows of ``x[C, B, D]`` go through the single member as one batch of C*B
images (no copy of the weights per context; ``members`` is ignored). ``n_members`` is the number of
contexts it serves, as for the set; its parameters are those of one member.
"""

from __future__ import annotations

from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet


class SharedAutoencoder(AutoencoderSet):
    variant = "shared_ae"

    def __init__(
        self, n_members: int, dim: int, hidden: int, latent: int, tied: bool = True, learn_sigma: bool = False
    ):
        super().__init__(1, dim, hidden, latent, tied, learn_sigma)
        self.n_members = n_members  # the contexts it serves (its weights: one member's)

    def config(self) -> dict:
        return {"variant": self.variant, **super().config()}

    def encode(self, x: Tensor, members: Tensor | None = None) -> Tensor:
        r, b, d = x.shape
        return super().encode(x.reshape(1, r * b, d)).reshape(r, b, -1)

    def decode_logits(self, z: Tensor, members: Tensor | None = None) -> Tensor:
        r, b, latent = z.shape
        return super().decode_logits(z.reshape(1, r * b, latent)).reshape(r, b, -1)
