"""Latent distances as the paper measures them (section 10, figures 10-11).

same glyph across contexts: |E_s(g) - E_c(g)|, one glyph instance seen by the source context s and
by another context c (the paper: |E10(V) - E99(V')| = 0.98); different glyphs in one context:
|E_s(g) - E_s(h)| for instances of different classes (|E10(V) - E10(+)| = 6.21). A shared latent
space makes the first small against the second; their ratio is the headline.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def distance_samples(z: Tensor, labels: np.ndarray, sources: Tensor) -> tuple[Tensor, Tensor]:
    """(same-glyph distances [S * (C-1) * N], different-glyph distances [S * pairs]) for latents
    z[C, N, L] and each source context in ``sources``."""
    c, n = z.shape[:2]
    zs = z[sources].float()  # [S, N, L]
    across = (zs[:, None] - z[None].float()).norm(dim=-1)  # [S, C, N]
    other = torch.arange(c, device=z.device)[None, :] != sources[:, None]  # [S, C]
    same = across[other]  # every instance, every other context
    lab = torch.as_tensor(labels, device=z.device)
    pairs = (lab[:, None] != lab[None, :]) & torch.ones(n, n, dtype=torch.bool, device=z.device).triu(1)
    different = torch.cdist(zs, zs)[:, pairs]  # [S, pairs]
    return same.reshape(-1), different.reshape(-1)


def distance_stats(same: Tensor, different: Tensor) -> dict:
    def stats(x: Tensor) -> dict:
        return {"mean": round(float(x.mean()), 4), "std": round(float(x.std()) if x.numel() > 1 else 0.0, 4)}

    near, far = float(same.mean()), float(different.mean())
    ratio = round(far / near, 3) if near > 0 else None  # JSON has no infinity
    return {"same_glyph_across_contexts": stats(same), "different_glyph_same_context": stats(different), "ratio": ratio}
