"""Train the ten class autoencoders as one batched set: member c only ever sees class c."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sla_cli.classify.adam_loop import train_with_adam
from sla_cli.classify.data import Split, class_epoch_indices
from sla_cli.classify.model_checkpoints import ModelCheckpoint
from sla_cli.classify.recipe import Recipe
from sla_cli.likelihood import MIN_LOG_SIGMA
from sla_cli.models.ae_set import AutoencoderSet


def class_reconstruction_loss(model: AutoencoderSet, x: torch.Tensor, loss: str, mask: float = 0.0) -> torch.Tensor:
    """Summed over members (their parameters are disjoint, so each learns as if alone), mean over images.

    ``mask`` > 0 drops that share of input pixels (set to 0) before encoding while the target stays
    the clean image: the masking noise of a denoising autoencoder (the recipe grid's dropout).

    ``mse`` is the paper's L2 loss, the one eq. (2)'s Gaussian assumes; ``bce`` treats pixels as
    Bernoulli. A model with a learned per-pixel sigma (``learn_sigma``) trains on the Gaussian
    negative log-likelihood instead (less its constant), whichever is named.
    """
    seen = x * (torch.rand_like(x) >= mask) if mask > 0 else x
    logits = model.decode_logits(model.encode(seen))
    if model.log_sigma is not None:
        log_sigma = model.log_sigma.clamp_min(MIN_LOG_SIGMA)[:, None, :]
        residual = torch.sigmoid(logits.float()) - x
        per_image = (0.5 * residual.square() * torch.exp(-2 * log_sigma) + log_sigma).sum(-1)
    elif loss == "bce":
        per_image = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none").sum(-1)
    else:
        per_image = ((torch.sigmoid(logits.float()) - x) ** 2).sum(-1)
    return per_image.mean(-1).sum()


def train_class_autoencoders(
    train: Split,
    n_classes: int,
    hidden: int,
    latent: int,
    recipe: Recipe,
    batch_size: int,
    lr: float,
    loss: str,
    learn_sigma: bool,
    device: torch.device,
    seed: int,
    label: str,
    checkpoint: ModelCheckpoint | None = None,
) -> AutoencoderSet:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = AutoencoderSet(n_classes, train.x.shape[1], hidden, latent, tied=True, learn_sigma=learn_sigma).to(device)
    first = class_epoch_indices(train.y, n_classes, gen)
    steps = -(-first.shape[1] // batch_size)

    def batch_loss(idx: torch.Tensor, s: int) -> torch.Tensor:
        x = train.x[idx[:, s * batch_size : (s + 1) * batch_size]]  # [C, B, 784]
        return class_reconstruction_loss(model, x, loss, recipe.dropout) + recipe.l2_penalty(model)

    return train_with_adam(
        model,
        lr,
        recipe.epochs_for(steps),
        steps,
        device,
        label,
        epoch_order=lambda epoch: first if epoch == 0 else class_epoch_indices(train.y, n_classes, gen),
        batch_loss=batch_loss,
        describe=lambda v: f"loss/class {v.item() / n_classes:.2f}",
        show_every=20,
        checkpoint=checkpoint,
        generator=gen,
    )
