"""Angle readers: a one-number code of a cube, and a monotone fit from that number to the cube's angle,
both learned on the fit cubes of the trained digit. Ours reads the second level's latent of the
cube's map; the controls ask whether the maps and the second level earn their keep:

- ``maps_pca``: the first principal component of the maps (no training): does the second level add
  anything over the maps' main direction?
- ``pixels_autoencoder``: the same one-latent autoencoder (``second_level.train``, same width, steps
  and restarts) on the raw cube pixels: do the maps beat the pixels, above all on unseen textures?
- ``pixels_pca``: the first principal component of the raw pixels.

Pixels are the cube's pixels inside the union of the context masks (where any face can ever be):
outside it every cube is black, and the second level's per-input scaling would blow up a pixel
that never varied on the fit cubes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from sla_cli.eval.concept import measures
from sla_cli.eval.concept.second_level import MapAutoencoder

READERS = {
    "maps_second_level": "ours: the second level's one latent on the maps",
    "maps_pca": "control: first principal component of the maps (no training)",
    "pixels_autoencoder": "control: the same one-latent autoencoder (second_level.train) on the raw cube pixels",
    "pixels_pca": "control: first principal component of the raw cube pixels",
}
CONTROLS = tuple(READERS)[1:]


@dataclass
class Inputs:
    """One cube set as the readers see it: maps [K, C] and pixel vectors [K, U], float, one device."""

    maps: Tensor
    pixels: Tensor


@dataclass
class Reader:
    input: str  # "maps" or "pixels"
    code: Callable[[Tensor], np.ndarray]  # inputs [K, D] -> one number per cube [K]
    fit: measures.MonotoneFit | None = None

    def latent(self, x: Inputs) -> np.ndarray:
        return self.code(getattr(x, self.input))

    def angles(self, x: Inputs) -> np.ndarray:
        return self.fit(self.latent(x))


def pixel_vectors(images: np.ndarray, union: Tensor) -> Tensor:
    """uint8 cube images [K, H, W] -> float [K, U] in 0..1: the pixels inside the mask union [H*W]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).to(union.device).flatten(1).float() / 255.0
    return x[:, union]


def mask_union(masks: Tensor) -> Tensor:
    """bool [H*W]: where any context's mask covers the frame."""
    return (masks.flatten(1) > 0).any(0)


def second_level_code(ae: MapAutoencoder) -> Callable[[Tensor], np.ndarray]:
    @torch.no_grad()
    def code(x: Tensor) -> np.ndarray:
        return ae.latent01(x)[:, 0].float().cpu().numpy()

    return code


def pca_code(fit_x: Tensor) -> Callable[[Tensor], np.ndarray]:
    """Projection on the first principal component of fit_x [K, D] (centred on the fit mean)."""
    x = fit_x.double().cpu()
    mean = x.mean(0)
    v = torch.linalg.svd(x - mean, full_matrices=False).Vh[0]

    def code(y: Tensor) -> np.ndarray:
        return ((y.double().cpu() - mean) @ v).numpy()

    return code


def fit_readers(fit: Inputs, angles: np.ndarray, ours: MapAutoencoder, train_pixels) -> dict[str, Reader]:
    """The four readers, each with its monotone fit on the fit cubes. ``train_pixels(x)`` trains the
    pixel autoencoder (second_level.train with the stage's settings) and returns it."""
    readers = {
        "maps_second_level": Reader("maps", second_level_code(ours)),
        "maps_pca": Reader("maps", pca_code(fit.maps)),
        "pixels_autoencoder": Reader("pixels", second_level_code(train_pixels(fit.pixels))),
        "pixels_pca": Reader("pixels", pca_code(fit.pixels)),
    }
    for r in readers.values():
        r.fit = measures.MonotoneFit(r.latent(fit), angles)
    return readers


def score(reader: Reader, x: Inputs, angles: np.ndarray, seed: int) -> dict:
    """Angle error (mean, 95% interval over cubes) and Spearman of the code with the angle."""
    code = reader.latent(x)
    err = np.abs(reader.fit(code) - angles)
    rho = measures.spearman(code, angles)
    return {
        "angle_mae_deg": measures.mean_ci(err, seed=seed),
        "spearman_latent_angle": {"value": rho, "ci95": measures.spearman_ci(code, angles, seed=seed)},
        "abs_errors": err,
    }
