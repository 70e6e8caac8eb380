"""Back-projection (figures 15, 16): from a map (the masked reconstruction ratio per context) to
contexts, and from contexts to a cube drawn with any first-level code.

Peak rule (``PEAK_RULE``). A cube shows exactly one top face and one or two side faces, so the map's
face groups are read apart. Top: the best top context. Sides: local maxima of the map along the
side contexts in yaw order (an end counts when it beats its one neighbour), strongest first, each at
least ``fraction`` of the strongest side value and at least ``MIN_SIDE_GAP_DEG`` from a side peak
already kept (two visible side faces are 90 degrees apart, so a closer bump is the same face), at
most two. Slots come out as the cubes' own ground truth has them: [top, side, side], -1 = none.

Composition: the code is decoded by the member of each picked context, masked by that context's
mask (a member's output outside its face is noise it was never asked to avoid) and the faces are
summed, as ``data_gen.cubes.paint_cubes`` sums a cube's faces, then clipped to 0..1.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet

MIN_SIDE_GAP_DEG = 45.0
PEAK_RULE = (
    "top: the best top context; sides: local maxima along the side contexts in yaw order, strongest "
    f"first, each >= fraction x the strongest side value and >= {MIN_SIDE_GAP_DEG:g} deg from a kept one, "
    "at most two"
)


def _local_maxima(values: np.ndarray) -> np.ndarray:
    """Indices where values[i] is at least each neighbour's and above one of them (no wrap-around)."""
    left = np.r_[-np.inf, values[:-1]]
    right = np.r_[values[1:], -np.inf]
    return np.flatnonzero((values >= left) & (values >= right) & ((values > left) | (values > right)))


def pick_peaks(maps: np.ndarray, faces: list[str], yaws: np.ndarray, fraction: float) -> np.ndarray:
    """Context per face slot [K, 3] (top, side, side; -1 = none) for maps [K, C], by ``PEAK_RULE``."""
    faces_arr, yaws = np.asarray(faces), np.asarray(yaws, dtype=np.float64)
    top = np.flatnonzero(faces_arr == "top")
    side = np.flatnonzero(faces_arr == "side")
    side = side[np.argsort(yaws[side], kind="mergesort")]
    out = np.full((len(maps), 3), -1, dtype=np.int64)
    for k, row in enumerate(np.asarray(maps, dtype=np.float64)):
        if len(top):
            out[k, 0] = top[np.argmax(row[top])]
        if not len(side):
            continue
        values = row[side]
        candidates = _local_maxima(values)
        candidates = candidates[np.argsort(-values[candidates], kind="mergesort")]
        kept: list[int] = []
        for i in candidates:
            if len(kept) == 2 or values[i] < fraction * values.max():
                break
            if all(abs(yaws[side[i]] - yaws[side[j]]) >= MIN_SIDE_GAP_DEG for j in kept):
                kept.append(i)
        out[k, 1 : 1 + len(kept)] = side[kept]
    return out


@torch.no_grad()
def decode_in_contexts(model: AutoencoderSet, code: Tensor, contexts: np.ndarray) -> Tensor:
    """Images [K, S, D] of one first-level code [L] decoded in contexts [K, S] (-1: zeros), one call."""
    ctx = torch.as_tensor(contexts, dtype=torch.long, device=code.device)
    valid = ctx >= 0
    members = ctx[valid]
    out = torch.zeros(*ctx.shape, model.dim, device=code.device)
    if len(members):
        z = code.reshape(1, 1, -1).expand(len(members), 1, -1).contiguous()
        out[valid] = model.decode(z.float(), members)[:, 0].float()
    return out


def compose(faces: Tensor, masks: Tensor, contexts: np.ndarray) -> Tensor:
    """One image [K, D] per row: the sum of face images [K, S, D] each times its context's mask
    (masks [C, D]; contexts [K, S], -1 = empty slot), clipped to 0..1."""
    ctx = torch.as_tensor(contexts, dtype=torch.long, device=faces.device)
    m = masks[ctx.clamp(min=0)] * (ctx >= 0)[..., None].to(masks.dtype)  # [K, S, D]
    return (faces * m).sum(1).clamp(0.0, 1.0)


@torch.no_grad()
def first_level_code(model: AutoencoderSet, rendered: Tensor, source: int) -> Tensor:
    """The shared-latent code [L] of a texture rendered in all contexts ([C, H, W] in 0..1), encoded
    by the member of context ``source``."""
    x = rendered[source].reshape(1, 1, -1).float()
    return model.encode(x, torch.tensor([source], device=x.device))[0, 0]
