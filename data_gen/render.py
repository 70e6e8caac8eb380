"""Render digits in every context at once.

Each context's homography becomes a sampling grid ``[C, H*s, W*s, 2]`` (s = supersampling factor),
computed once. ``render_grid_sample`` renders a batch of digits in all contexts with one
``F.grid_sample``: the digits ride in the channel dimension, so the C contexts form the batch and
each grid is shared by every digit. On a CPU the same linear map runs several times faster as a
precomputed sparse operator (``SparseRenderer``) holding grid_sample's own bilinear taps: both give
the same images (tests check it), but the operator touches only the ~15% of pixels a face covers.
Masks are the same warp of an all-ones texture.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from data_gen.geometry import TEXTURE, Camera, Context, homography


def grids_for_homographies(
    h: np.ndarray, size: int, supersample: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """Sampling grids [B, size*s, size*s, 2] (grid_sample's normalised texture coordinates) for
    texture-to-frame homographies [B, 3, 3], on ``device`` (default: the CPU). Frame pixels whose ray
    meets the face plane behind the camera are sent outside the texture."""
    if device is not None and torch.device(device).type != "cpu":
        return _grids_on_device(h, size, supersample, torch.device(device))
    s = supersample
    sub = (np.arange(size * s) + 0.5) / s - 0.5  # sub-pixel centres in frame pixel coordinates
    ys, xs = np.meshgrid(sub, sub, indexing="ij")
    pix = np.stack([xs, ys, np.ones_like(xs)], -1).reshape(-1, 3)  # [P, 3]
    inv = np.linalg.inv(h)  # [B, 3, 3]
    tex = pix @ np.swapaxes(inv, -1, -2)  # [B, P, 3]
    # inv(h) sends a frame pixel to (u, v, 1) / depth of the plane point it sees: w takes the sign of
    # that depth (times h's overall sign), so pixels whose ray meets the plane behind the camera flip it.
    w = tex[..., 2:3]
    front = _front_sign(h)[:, None, None] * w > 0
    uv = tex[..., :2] / np.where(np.abs(w) < 1e-12, 1e-12, w)
    uv = np.where(front, uv, -1e3)
    grid = (2 * uv + 1) / TEXTURE - 1  # align_corners=False: texture pixel centre i -> (2i+1)/28 - 1
    return torch.from_numpy(grid.reshape(len(h), size * s, size * s, 2).astype(np.float32))


def _grids_on_device(h: np.ndarray, size: int, supersample: int, device: torch.device) -> torch.Tensor:
    """The same grids, computed on ``device`` in float64. The painted cubes need a grid per cube: at the
    paper preset, computed on the CPU, they held `generate-cubes` on an H200 to about 550 cubes a second."""
    s = supersample
    sub = (torch.arange(size * s, dtype=torch.float64, device=device) + 0.5) / s - 0.5
    ys, xs = torch.meshgrid(sub, sub, indexing="ij")
    pix = torch.stack([xs, ys, torch.ones_like(xs)], -1).reshape(-1, 3)
    inv = torch.from_numpy(np.linalg.inv(h)).to(device)
    tex = pix @ inv.transpose(-1, -2)
    w = tex[..., 2:3]
    front = torch.from_numpy(_front_sign(h)).to(device)[:, None, None] * w > 0
    uv = tex[..., :2] / torch.where(w.abs() < 1e-12, torch.full_like(w, 1e-12), w)
    uv = torch.where(front, uv, torch.full_like(uv, -1e3))
    grid = (2 * uv + 1) / TEXTURE - 1
    return grid.reshape(len(h), size * s, size * s, 2).float()


def _front_sign(h: np.ndarray) -> np.ndarray:
    """The sign h gives the depth of texture points (h is defined up to scale): w's sign in front."""
    centre = np.array([TEXTURE / 2 - 0.5, TEXTURE / 2 - 0.5, 1.0])
    pix = h @ centre  # [B, 3]; pix[:, 2] > 0 is depth in front of the camera
    return np.sign(pix[:, 2])


def context_grids(camera: Camera, contexts: list[Context], supersample: int) -> torch.Tensor:
    h = np.stack([homography(camera, c.face, c.yaw_deg) for c in contexts])
    return grids_for_homographies(h, camera.size, supersample)


def warp(textures: torch.Tensor, grids: torch.Tensor, supersample: int) -> torch.Tensor:
    """Float render [G, K, H, W] of textures [G or 1, K, 28, 28] through grids [G, H*s, W*s, 2].

    The K textures of a row share its grid (they are channels), so one call does G x K images.
    """
    if textures.shape[0] != grids.shape[0]:
        textures = textures.expand(grids.shape[0], *textures.shape[1:])
    out = F.grid_sample(textures, grids, mode="bilinear", padding_mode="zeros", align_corners=False)
    return F.avg_pool2d(out, supersample) if supersample > 1 else out


def masks(grids: torch.Tensor, supersample: int) -> torch.Tensor:
    """Per-context coverage [C, H, W] in 0..1: the warp of an all-ones texture."""
    ones = torch.ones(1, 1, TEXTURE, TEXTURE, dtype=grids.dtype, device=grids.device)
    return warp(ones, grids, supersample)[:, 0].clamp(0, 1)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """Round half up into 0..255 (the same rule in every renderer, so they agree byte for byte)."""
    return (x + 0.5).clamp_(0, 255).to(torch.uint8)


def render_grid_sample(digits: torch.Tensor, grids: torch.Tensor, supersample: int) -> torch.Tensor:
    """uint8 [N, C, H, W]: every digit (uint8 [N, 28, 28]) in every context, one grid_sample."""
    x = digits.to(grids.dtype).unsqueeze(0)  # [1, N, 28, 28]
    return to_uint8(warp(x, grids, supersample)).permute(1, 0, 2, 3)


class SparseRenderer:
    """The grid_sample render as a sparse linear operator from the 784 texels to the covered pixels.

    Its weights are grid_sample's own bilinear taps (align_corners=False, zero padding: taps off the
    texture are dropped), each divided by s*s and summed into the pixel its sub-sample pools into.
    Pixels no face covers get no row. Rendering is one ``embedding_bag`` (a weighted gather-sum).
    """

    def __init__(self, grids: torch.Tensor, supersample: int):
        c, hs, ws, _ = grids.shape
        s = supersample
        self.shape = (c, hs // s, ws // s)
        g = grids.double()
        u = ((g[..., 0] + 1) * TEXTURE - 1) / 2  # back to texture pixel coordinates
        v = ((g[..., 1] + 1) * TEXTURE - 1) / 2
        u0, v0 = u.floor(), v.floor()
        fu, fv = u - u0, v - v0
        ctx = torch.arange(c).view(c, 1, 1).expand(c, hs, ws)
        ys = torch.arange(hs).view(1, hs, 1).expand(c, hs, ws) // s
        xs = torch.arange(ws).view(1, 1, ws).expand(c, hs, ws) // s
        pixel = (ctx * self.shape[1] + ys) * self.shape[2] + xs
        keys, vals = [], []
        for du, dv, w in ((0, 0, (1 - fu) * (1 - fv)), (1, 0, fu * (1 - fv)), (0, 1, (1 - fu) * fv), (1, 1, fu * fv)):
            tu, tv = (u0 + du).long(), (v0 + dv).long()
            ok = (tu >= 0) & (tu < TEXTURE) & (tv >= 0) & (tv < TEXTURE) & (w > 0)
            keys.append(pixel[ok] * TEXTURE * TEXTURE + tv[ok] * TEXTURE + tu[ok])
            vals.append(w[ok] / (s * s))
        keys, inverse = torch.unique(torch.cat(keys), return_inverse=True)  # sorted: by pixel, then texel
        weights = torch.zeros(len(keys), dtype=torch.float64).index_add_(0, inverse, torch.cat(vals))
        rows = keys // (TEXTURE * TEXTURE)
        self.active, counts = torch.unique_consecutive(rows, return_counts=True)
        self.offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)[:-1]])
        self.taps, self.weights = keys % (TEXTURE * TEXTURE), weights.float()

    def to(self, device: torch.device) -> SparseRenderer:
        for name in ("active", "offsets", "taps", "weights"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def __call__(self, digits: torch.Tensor, block: int = 32, out: torch.Tensor | None = None) -> torch.Tensor:
        """uint8 [N, C, H, W] from uint8 digits [N, 28, 28], ``block`` digits at a time (cache-sized).

        ``out``: a uint8 [N, C, H, W] buffer whose uncovered pixels are zero (fresh zeros, or any
        earlier output of this renderer). Only covered pixels are written, so reusing one buffer
        saves clearing the ~85% of the frame no face covers, which is half the time on a CPU.
        """
        n = digits.shape[0]
        table = digits.reshape(n, -1).T.to(torch.float32)  # [784, N]: one texel per row
        if out is None:
            out = torch.zeros(n, *self.shape, dtype=torch.uint8, device=digits.device)
        flat = out.view(n, -1)
        for i in range(0, n, block):
            sums = F.embedding_bag(
                self.taps,
                table[:, i : i + block].contiguous(),
                self.offsets,
                mode="sum",
                per_sample_weights=self.weights,
            )  # [covered pixels, block]
            flat[i : i + block, self.active] = sums.add_(0.5).clamp_(0, 255).to(torch.uint8).T  # to_uint8, in place
        return out


def make_renderer(grids: torch.Tensor, supersample: int, backend: str, device: torch.device):
    """(backend name, a function uint8 digits [N, 28, 28] -> uint8 [N, C, H, W] on ``device``).
    The result may be a reused buffer: copy it out before the next call.

    auto: the sparse operator on CPU (measured several times faster there, bench/render.py), one
    grid_sample on CUDA. Rendering stays float32: bf16 has too few bits for exact uint8 output.
    """
    if backend == "auto":
        backend = "grid_sample" if device.type == "cuda" else "sparse"
    grids = grids.to(device)
    if backend == "sparse":
        renderer = SparseRenderer(grids.cpu(), supersample).to(device)
        buffers: dict[int, torch.Tensor] = {}

        def render_sparse(digits: torch.Tensor) -> torch.Tensor:
            # One zeroed buffer per batch size, reused: valid until the next call (callers copy it out).
            n = digits.shape[0]
            if n not in buffers:
                buffers[n] = torch.zeros(n, *renderer.shape, dtype=torch.uint8, device=device)
            return renderer(digits.to(device), out=buffers[n])

        return backend, render_sparse
    return backend, lambda digits: render_grid_sample(digits.to(device), grids, supersample)
