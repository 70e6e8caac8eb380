"""Glyphs rendered into every context by the model's own renderer, and encoded by every context.

The renderer is the model folder's (rebuilt from its dataset's manifest, the one `generate-cubes`
used), so a glyph lands on the cube face exactly as the training digits did. Encoding runs a chunk of
contexts per batched call (each row through its own member), which bounds memory and drives the
progress bar; no context is ever handled on its own.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import autocast

RENDER_CHUNK = 256  # glyphs per render call


@torch.no_grad()
def render_frames(render, images: np.ndarray, device: torch.device) -> Tensor:
    """uint8 glyphs [N, 28, 28] -> float frames [C, N, H*W] in 0..1 on ``device``. ``render`` gives
    uint8 levels / 255, as the dataset's images are (the encoders never saw finer levels)."""
    parts = []
    for start in range(0, len(images), RENDER_CHUNK):
        r = torch.as_tensor(render(images[start : start + RENDER_CHUNK])).to(device).float()  # [n, C, H, W]
        parts.append(r.flatten(2).transpose(0, 1))
    return torch.cat(parts, dim=1).contiguous()


@torch.no_grad()
def encode_frames(model: AutoencoderSet, frames: Tensor, device: torch.device, chunk: int, advance=None) -> Tensor:
    """frames [C, N, D] -> latents [C, N, L] (float32): row c through encoder c."""
    c = frames.shape[0]
    out = []
    for start in range(0, c, chunk):
        members = torch.arange(start, min(start + chunk, c), device=device)
        with autocast(device):
            out.append(model.encode(frames[start : start + chunk], members).float())
        if advance is not None:
            advance(len(members))
    return torch.cat(out)


@torch.no_grad()
def decode_everywhere(model: AutoencoderSet, z: Tensor, masks: Tensor) -> Tensor:
    """One latent z[L] decoded by every context -> [C, D], masked: outside its face a decoder is never
    trained (the loss is masked), so only the face is shown (figure 9)."""
    c = model.n_members
    with autocast(z.device):
        decoded = model.decode(z.reshape(1, 1, -1).expand(c, 1, -1)).float()[:, 0]
    return decoded * masks.reshape(c, -1).to(decoded.device)
