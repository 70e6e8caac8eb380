"""Back-projection on a loaded model: second-level latents -> decoded maps -> face contexts (the peak
rule of ``backproject``) -> a first-level code painted in those contexts. Also the references it is
scored against: the true render of the same texture at the cube's true angle, and the cube's true
silhouette (for choosing the peak fraction without any texture)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from data_gen.cubes import SLOTS, paint_cubes
from sla_cli.eval.concept import backproject
from sla_cli.eval.concept.inputs import Cubes
from sla_cli.eval.concept.second_level import MapAutoencoder
from sla_cli.eval.model_dir import TrainedModel


@torch.no_grad()
def decoded_maps(ae: MapAutoencoder, u: np.ndarray, device) -> np.ndarray:
    """Maps [n, C] the second level decodes at rescaled latents u [n] (every component set to u)."""
    uu = torch.as_tensor(u, dtype=torch.float32, device=device)[:, None].expand(-1, ae.latent).contiguous()
    return ae.decode01(uu).float().cpu().numpy()


def contexts_at(ae: MapAutoencoder, u: np.ndarray, cubes: Cubes, fraction: float, device) -> np.ndarray:
    """Face contexts [n, 3] (top, side, side; -1 = none) of the maps decoded at latents u."""
    return backproject.pick_peaks(decoded_maps(ae, u, device), cubes.faces, cubes.yaws, fraction)


@torch.no_grad()
def paint_code(trained: TrainedModel, code: Tensor, contexts: np.ndarray) -> np.ndarray:
    """Cube images [n, H, W] in 0..1: one first-level code decoded in contexts [n, 3], masked, summed."""
    faces = backproject.decode_in_contexts(trained.model, code, contexts)
    images = backproject.compose(faces, trained.masks.flatten(1).float(), contexts)
    return images.reshape(len(contexts), *trained.frame).cpu().numpy()


def silhouettes(trained: TrainedModel, contexts: np.ndarray) -> np.ndarray:
    """[n, H, W]: the union of the masks of contexts [n, 3] (a back-projection with a white texture)."""
    ones = torch.ones(len(contexts), len(SLOTS), trained.model.dim, device=trained.masks.device)
    out = backproject.compose(ones, trained.masks.flatten(1).float(), contexts)
    return out.reshape(len(contexts), *trained.frame).cpu().numpy()


def true_renders(trained: TrainedModel, texture: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The same texture on every face of cubes at ``angles``, painted as generate-cubes paints, in 0..1."""
    tex = torch.from_numpy(np.ascontiguousarray(np.broadcast_to(texture, (len(angles), len(SLOTS), *texture.shape))))
    ss = int(trained.dataset_manifest["config"]["render"]["supersample"])  # as model_dir rebuilds the renderer
    return paint_cubes(tex, angles, trained.camera, ss, trained.masks.device).float().div(255).cpu().numpy()


def true_silhouettes(trained: TrainedModel, angles: np.ndarray) -> np.ndarray:
    """[n, H, W] in 0..1: cubes at ``angles`` painted with a white texture."""
    return true_renders(trained, np.full((28, 28), 255, dtype=np.uint8), angles)


def codes_of(trained: TrainedModel, textures: dict[str, np.ndarray], source: int) -> dict[str, Tensor]:
    """Each texture's first-level code: rendered into the source context and encoded there."""
    rendered = trained.render(np.stack(list(textures.values())))  # [T, C, H, W]
    return {name: backproject.first_level_code(trained.model, rendered[i], source) for i, name in enumerate(textures)}
