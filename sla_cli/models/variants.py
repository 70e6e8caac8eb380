"""Which model a `sla train` variant trains, and the model a saved config describes.

``set``: the paper's C context autoencoders (``AutoencoderSet``); ``shared_ae``: one autoencoder of
the same shape serving every context (``SharedAutoencoder``); ``contrastive``: the set's C encoders
without decoders (``EncoderSet``). A saved config without a ``variant`` key is a set's (every model
written before variants existed, and every set since: the set's config is unchanged).
"""

from __future__ import annotations

from sla_cli.errors import DataError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.models.encoder_set import EncoderSet
from sla_cli.models.shared_ae import SharedAutoencoder
from sla_cli.schema.train import VARIANTS


def new_model(
    variant: str, n_contexts: int, dim: int, hidden: int, latent: int, tied: bool, learn_sigma: bool
) -> AutoencoderSet:
    config = {"variant": variant, "n_members": n_contexts, "dim": dim, "hidden": hidden, "latent": latent}
    if variant != "contrastive":  # an encoder set has no decoder to tie and no sigma
        config.update(tied=tied, learn_sigma=learn_sigma)
    return from_config(config)


def model_variant(config: dict) -> str:
    variant = config.get("variant", "set")
    if variant not in VARIANTS:
        raise DataError(f"unknown model variant {variant!r} (known: {', '.join(VARIANTS)})")
    return variant


def from_config(config: dict) -> AutoencoderSet:
    """The (untrained) model a model file's ``config`` describes; load its state_dict next."""
    variant = model_variant(config)
    args = {k: v for k, v in config.items() if k != "variant"}
    kind = {"set": AutoencoderSet, "shared_ae": SharedAutoencoder, "contrastive": EncoderSet}[variant]
    try:
        return kind(**args)
    except TypeError as e:
        raise DataError(f"a {variant} model's config {config} does not fit its class ({e})") from None
