"""Context-likelihood maps: for a whole-cube image, how well each context's autoencoder explains it.

Raw score. Member c sees the cube image through its own mask (``x * mask_c``: in training it only
ever saw its own face on a black frame) and is scored by ``sla_cli.likelihood.score`` on the mask's
pixels: the reconstruction term of eq. (4) (``concept.terms=recon``, the default) or all three terms
(``full``: + log p(z*) under a Gaussian fitted per context to the model's training digits, + the
Laplace volume). Every context of every cube in one batched call per chunk of cubes.

Normalisation (``RULE``). Masks differ in area (a side face seen edge-on covers a few pixels, the
top face hundreds), so raw log-likelihoods are not comparable across contexts; and only the
*ranking* of contexts within one cube says where its faces are. Hence, per cube: divide each
context's score by its mask area (per-pixel log-likelihood), z-score it within its face group (all
side contexts; all top contexts) and take a softmax over the group at temperature
``concept.temperature`` (in units of the group's standard deviation), halved so that a map sums to
one. The groups are scored apart because a cube always shows one top face *and* side faces: one
softmax over all contexts would let the best group silence the other. The result is a non-negative,
peaked map that is blind to the cube's overall brightness and to what digit is drawn (the z-score
takes out what all contexts share), which is what the second level and the cosines need: maps 20
degrees apart share no peak, so their cosine falls toward zero.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.likelihood import LatentGaussian, score
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import autocast

TERMS = ("recon", "full")
RULE = ("per-pixel log-likelihood (score / mask area), z-scored within each face group (side, top) of each "
        "cube, softmax over the group at temperature T (in group standard deviations), each group weighted 1/2")


def face_groups(faces: list[str]) -> dict[str, Tensor]:
    """Context indices of each face kind ('side', 'top'), in context order."""
    return {f: torch.tensor([i for i, g in enumerate(faces) if g == f], dtype=torch.long) for f in sorted(set(faces))}


@torch.no_grad()
def context_scores(model: AutoencoderSet, images: np.ndarray, masks: Tensor, terms: str = "recon",
                   density: LatentGaussian | None = None, sigma: Tensor | None = None, chunk: int = 64,
                   on_chunk=None) -> Tensor:
    """Per-pixel log-likelihood [K, C] (float32, on the model's device) of uint8 cube images [K, H, W]
    under every context; ``on_chunk(n)`` is called after each chunk (a progress bar)."""
    device = masks.device
    m = masks.reshape(masks.shape[0], -1).float()  # [C, D]
    area = m.sum(-1).clamp(min=1.0)
    out = []
    for i in range(0, len(images), chunk):
        x = torch.from_numpy(np.asarray(images[i:i + chunk])).to(device).float().flatten(1) / 255.0  # [B, D]
        xin = x[None] * m[:, None]  # [C, B, D]: each member sees the cube through its own mask
        with autocast(device):
            t = score(model, xin, mask=m, sigma=sigma, density=density, logdet=terms == "full")
        value = t.recon if terms == "recon" else t.total
        out.append((value.float() / area[:, None]).T)  # [B, C]
        if on_chunk is not None:
            on_chunk(len(x))
    return torch.cat(out)


def normalise(scores: Tensor, groups: dict[str, Tensor], temperature: float) -> Tensor:
    """Maps [K, C] from per-pixel scores [K, C] by ``RULE``; each group's entries sum to 1/len(groups)."""
    out = torch.zeros_like(scores)
    for idx in groups.values():
        idx = idx.to(scores.device)
        s = scores[:, idx]
        z = (s - s.mean(1, keepdim=True)) / s.std(1, keepdim=True).clamp(min=1e-8)
        out[:, idx] = torch.softmax(z / temperature, 1) / len(groups)
    return out


def cosine_rows(a: Tensor, b: Tensor) -> Tensor:
    """Cosine similarity of matching rows of a and b [K, C] -> [K]."""
    return torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-12)


def square_maps(maps: np.ndarray) -> np.ndarray:
    """Maps [K, C] as the paper's square pictures [K, s, s] (s = ceil(sqrt(C)); 10x10 for 100
    contexts), padded with NaN (drawn blank) when C is not a square."""
    k, c = maps.shape
    side = int(np.ceil(np.sqrt(c)))
    padded = np.full((k, side * side), np.nan, dtype=np.float32)
    padded[:, :c] = maps
    return padded.reshape(k, side, side)


@torch.no_grad()
def fit_density(model: AutoencoderSet, train_images: np.ndarray, n: int, device: torch.device) -> LatentGaussian:
    """For ``terms=full``: one latent Gaussian per context, fitted to the codes of the first ``n``
    training digits of the model's own dataset ([N, C, H, W] uint8) seen in that context."""
    x = torch.from_numpy(np.asarray(train_images[:n])).to(device).float().flatten(2) / 255.0  # [n, C, D]
    z = model.encode(x.transpose(0, 1).contiguous())  # [C, n, L]
    return LatentGaussian.fit(list(z.float()))
