"""The contrastive baseline's loss and its held-out numbers: symmetric InfoNCE between contexts.

A step sees the same batch as a set's cross step: B digits, each in all C contexts, and the same
pairing (``loop.cross_pairs``: context c with context perm[c] of the same digit, perm a random
derangement, or ``held_view_sources``' cycles under ``train.views_per_digit``). Codes are
L2-normalised; for context c the B x B matrix of cosines between its codes and their partners',
divided by ``train.temperature``, is scored by cross-entropy with the matching digit as the target,
both ways (anchor -> partners and partner -> anchors; CLIP's symmetric loss), averaged over the
pairs that count. Negatives are the batch's other digits in the same pair of contexts; only views
the training set holds take part. Chance level (all cosines equal) is log(B).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from sla_cli.models.encoder_set import EncoderSet
from sla_cli.train.data import Dataset, to_batch
from sla_cli.train.loop import cross_pairs, random_derangement
from sla_cli.train.metrics import latent_distances

MASKED = -1e9  # the logit of a pair that does not take part (finite: an all-masked row stays NaN-free)


def pair_cosines(z: Tensor, perm: Tensor, seen: Tensor | None) -> tuple[Tensor, Tensor]:
    """(cos[C, B, B]: anchor b of context c against the partner of digit d, valid[C, B] bool: the pairs that
    count: both views held, two different contexts)."""
    unit = F.normalize(z.float(), dim=-1)
    partners, weight = cross_pairs(unit, perm, seen)
    valid = torch.ones(z.shape[:2], dtype=torch.bool, device=z.device) if weight is None else weight > 0
    return torch.einsum("cbl,cdl->cbd", unit, partners), valid


def info_nce(z: Tensor, perm: Tensor, seen: Tensor | None, temperature: float) -> Tensor:
    """The symmetric InfoNCE loss of codes z[C, B, L] under the cross-step pairing ``perm`` (see the module)."""
    cos, valid = pair_cosines(z, perm, seen)
    c, b, _ = cos.shape
    target = torch.arange(b, device=z.device).repeat(c)
    out_of_play = ~valid[:, None, :]  # columns of digits whose pair does not count
    per_direction = [
        F.cross_entropy((m / temperature).masked_fill(out_of_play, MASKED).flatten(0, 1), target, reduction="none")
        for m in (cos, cos.transpose(1, 2))
    ]
    per_pair = torch.where(valid.flatten(), (per_direction[0] + per_direction[1]) / 2, 0.0)
    return per_pair.sum() / valid.sum().clamp_min(1)


class UnitCodes:
    """An encoder set whose codes are L2-normalised: the space InfoNCE trains and the one-shot stage
    measures (cosine nearest prototype), for ``metrics.latent_distances``."""

    def __init__(self, model: EncoderSet):
        self.model, self.hidden = model, model.hidden

    def encode(self, x: Tensor, members: Tensor | None = None) -> Tensor:
        return F.normalize(self.model.encode(x, members).float(), dim=-1)


@torch.no_grad()
def evaluate(
    model: EncoderSet,
    data: Dataset,
    device: torch.device,
    n_test: int,
    n_latent: int,
    batch_size: int,
    temperature: float,
    seed: int,
) -> dict:
    """Held-out test digits in batches of the training batch size, each paired by a seeded derangement:
    the InfoNCE loss beside chance (log B), the mean cosine of positive pairs (one digit, two contexts)
    and of negatives (two digits), how often a code's nearest partner is its own digit's, and the
    latent distances of the unit codes."""
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    n_test = min(n_test, data.test_images.shape[0])
    b = min(batch_size, n_test)
    sums = np.zeros(4)
    batches = 0
    for start in range(0, n_test - b + 1, b):
        z = model.encode(to_batch(data.test_images[start : start + b], device))
        perm = random_derangement(data.n_contexts, gen).to(device)
        cos, _ = pair_cosines(z, perm, None)
        positive = cos.diagonal(dim1=1, dim2=2)
        negative = (cos.sum((1, 2)) - positive.sum(1)) / max(b * (b - 1), 1)
        retrieved = (cos.argmax(-1) == torch.arange(b, device=device)).float().mean()
        sums += [
            float(info_nce(z, perm, None, temperature)),
            float(positive.mean()),
            float(negative.mean()),
            float(retrieved),
        ]
        batches += 1
    loss, positive, negative, retrieval = sums / batches
    same, different = latent_distances(UnitCodes(model), data, device, n_latent)
    return {
        "test_infonce_loss": loss,
        "chance_infonce_loss": math.log(b),
        "test_positive_cosine": positive,
        "test_negative_cosine": negative,
        "test_pair_retrieval_accuracy": retrieval,
        "latent_distance_same_digit": same,
        "latent_distance_different_digit": different,
        "latent_distance_ratio": different / same if same > 0 else float("nan"),
        "latent_distance_measured": f"as the set's, on the L2-normalised codes, over "
        f"{min(n_latent, data.test_images.shape[0])} MNIST test digits",
        "infonce_measured": f"{batches} batches of {b} held-out test digits in all {data.n_contexts} contexts, "
        f"each context paired with another by a seeded derangement; temperature "
        f"{temperature}; chance = log({b})",
    }
