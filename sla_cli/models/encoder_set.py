"""C context encoders and no decoder: the one-shot stage's contrastive baseline.

The set's encoders exactly (``AutoencoderSet.encode``: D -> hidden (ReLU) -> latent, one member per
context), trained with InfoNCE (``train/contrastive.py``), which needs no decoder. The decoder's
biases the parent makes are removed, so the model file holds encoders only, and anything that tries
to decode one of its codes stops with a one-line error instead of decoding with untrained weights.
"""

from __future__ import annotations

from torch import Tensor

from sla_cli.errors import DataError
from sla_cli.models.ae_set import AutoencoderSet

NO_DECODER = "a contrastive model (train.variant=contrastive) has encoders only: nothing can decode its codes"


class EncoderSet(AutoencoderSet):
    variant = "contrastive"

    def __init__(self, n_members: int, dim: int, hidden: int, latent: int):
        super().__init__(n_members, dim, hidden, latent, tied=True, learn_sigma=False)
        del self.dec1_b, self.dec2_b  # tied: the parent made no decoder weights, only these biases

    def config(self) -> dict:
        return {
            "variant": self.variant,
            "n_members": self.n_members,
            "dim": self.dim,
            "hidden": self.hidden,
            "latent": self.latent,
        }

    def decoder_weights(self, members: Tensor | None = None):
        raise DataError(NO_DECODER)

    def decode_logits(self, z: Tensor, members: Tensor | None = None) -> Tensor:
        raise DataError(NO_DECODER)
