"""The concept stage's maps: for a whole-cube image, how well each context's autoencoder explains it.

What the map is (``NAME``, ``DEFINITION``). Member c sees the cube image through its own mask
(``x * mask_c``: in training it only ever saw its own face on a black frame) and is scored by
``sla_cli.likelihood.score`` on the mask's pixels: the masked reconstruction term of eq. (4),
log N(x; f(z*), sigma^2) at a fixed sigma (1, or the model's learned per-pixel sigma when it has
one; ``concept.terms=full`` adds log p(z*) under a Gaussian fitted per context to the model's
training digits, and the Laplace volume). Rule ``blank_ratio`` subtracts the log-likelihood of the
same pixels under a blank face (the same Gaussian with mean 0): a log-likelihood ratio, "how much
of this region does member c explain"; rule ``plain`` keeps the term alone. Without the ratio small
masks win: a side face seen edge-on covers a few pixels, and its member explains almost nothing yet
errs little. Which rule, and which temperature, the stage chooses on the select cubes
(``selection``). It is not a likelihood of the cube: no member models a whole cube.

Normalisation (``RULE``, ``WHY``). Per cube, each face group (all side contexts; all top contexts)
is z-scored and passed through a softmax at temperature T (in units of the group's standard
deviation); each group gets weight 1/2, so a map sums to one. Only the *ranking* of contexts within
one cube says where its faces are: the z-score takes out what all contexts share (how bright the
cube is, which digit is drawn), and the softmax makes a non-negative, peaked map. The groups are
scored apart because a cube always shows one top face *and* side faces: one softmax over all
contexts would let the stronger group silence the other. Every context of every cube goes in one
batched call per chunk of cubes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from sla_cli.likelihood import LatentGaussian, score
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import autocast

NAME = {
    "blank_ratio": "masked reconstruction log-ratio to a blank face",
    "plain": "masked reconstruction log-likelihood",
}
RULE = (
    "each member's score (by the chosen blank rule), z-scored within each face group (side, top) of each cube, "
    "softmax over the group at temperature T (in group standard deviations), each group weighted 1/2"
)
WHY = (
    "only the ranking of contexts within one cube says where its faces are: the z-score removes what all "
    "contexts of a group share (overall brightness, which digit is drawn), the softmax makes the map a peaked, "
    "non-negative pattern whose cosine with another angle's map falls toward zero, and the groups are scored "
    "apart because a cube always shows one top face and one or two side faces"
)


def face_groups(faces: list[str]) -> dict[str, Tensor]:
    """Context indices of each face kind ('side', 'top'), in context order."""
    return {f: torch.tensor([i for i, g in enumerate(faces) if g == f], dtype=torch.long) for f in sorted(set(faces))}


def _blank_loglik(x: Tensor, m: Tensor, sigma: Tensor | None) -> Tensor:
    """log N(x; 0, sigma^2) over each member's mask [C, B]: the same Gaussian as the reconstruction
    term, with a blank face (all zeros) as its mean."""
    s2 = torch.ones((), device=x.device) if sigma is None else (sigma[:, None] if sigma.dim() == 1 else sigma) ** 2
    s2 = s2 if s2.dim() == 0 else s2[:, None]  # [C, 1, 1 or D]
    return -(x**2 * m[:, None] / (2 * s2)).sum(-1) - (m[:, None] * 0.5 * torch.log(2 * math.pi * s2)).sum(-1)


def definition(terms: str, sigma: Tensor | None) -> str:
    """What the map's raw score is, in words, for concept.json and the figures."""
    what = "eq. (4)'s masked reconstruction term log N(x*mask_c; f(z*), sigma^2)"
    if terms == "full":
        what += " + log p(z*) + the Laplace volume (all three terms of eq. (4))"
    fixed = "sigma fixed at 1" if sigma is None else "sigma fixed at the model's learned per-pixel sigma"
    return f"{what}, {fixed}, of member c on the cube seen through its mask"


@dataclass
class Scores:
    """Raw per-context scores of cube images [K, C]: the model's term(s) and the blank-face term."""

    term: Tensor
    blank: Tensor

    def raw(self, rule: str) -> Tensor:
        return self.term - self.blank if rule == "blank_ratio" else self.term

    def __getitem__(self, idx) -> Scores:
        idx = torch.as_tensor(idx, device=self.term.device)
        return Scores(self.term[idx], self.blank[idx])


@torch.no_grad()
def context_scores(
    model: AutoencoderSet,
    images: np.ndarray,
    masks: Tensor,
    terms: str = "recon",
    density: LatentGaussian | None = None,
    sigma: Tensor | None = None,
    chunk: int = 64,
    on_chunk=None,
) -> Scores:
    """Scores [K, C] (float32, on the masks' device) of uint8 cube images [K, H, W]: each member's
    eq. (4) term(s) on its masked view, and the blank-face log-likelihood of that view (both rules
    come from one pass). ``on_chunk(n)`` is called after each chunk of cubes (a progress bar)."""
    device = masks.device
    m = masks.reshape(masks.shape[0], -1).float()  # [C, D]
    terms_out, blank_out = [], []
    for i in range(0, len(images), chunk):
        x = torch.from_numpy(np.array(images[i : i + chunk])).to(device).float().flatten(1) / 255.0  # [B, D]
        xin = x[None] * m[:, None]  # [C, B, D]: each member sees the cube through its own mask
        with autocast(device):
            t = score(model, xin, mask=m, sigma=sigma, density=density, logdet=terms == "full")
        terms_out.append((t.recon if terms == "recon" else t.total).float().T)  # [B, C]
        blank_out.append(_blank_loglik(xin.float(), m, sigma).T)
        if on_chunk is not None:
            on_chunk(len(x))
    return Scores(torch.cat(terms_out), torch.cat(blank_out))


def normalise(scores: Tensor, groups: dict[str, Tensor], temperature: float) -> Tensor:
    """Maps [K, C] from raw scores [K, C] by ``RULE``; each group's entries sum to 1/len(groups)."""
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
    x = torch.from_numpy(np.array(train_images[:n])).to(device).float().flatten(2) / 255.0  # [n, C, D]
    z = model.encode(x.transpose(0, 1).contiguous())  # [C, n, L]
    return LatentGaussian.fit_to_latents(list(z.float()))
