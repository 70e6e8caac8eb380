"""The concept stage's steps on a loaded model: maps of all cubes, the second level on the training
split, the measures on the held-out split, and back-projection of new textures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from data_gen.cubes import SLOTS, paint_cubes
from sla_cli.eval.concept import backproject, inputs, maps, measures, second_level
from sla_cli.eval.concept.inputs import Cubes
from sla_cli.eval.model_dir import TrainedModel
from sla_cli.runtime import progress


@dataclass
class Maps:
    digit: Tensor  # [K, C] maps of the digit cubes (the second level's data)
    compare: Tensor  # [K, C] maps of the compare-digit cubes at the same angles


def compute_maps(trained: TrainedModel, cubes: Cubes, cfg) -> Maps:
    """Both cube sets' likelihood maps, in batched calls over all contexts, with a progress bar."""
    c = cfg.concept
    density = None
    if c.terms == "full":
        train_images = inputs.train_images(trained.dataset_dir, trained.dataset_manifest)  # sha256 checked
        density = maps.fit_density(trained.model, train_images, int(c.density_digits), trained.masks.device)
    sigma = trained.model.log_sigma.exp() if trained.model.log_sigma is not None else None
    groups = maps.face_groups(cubes.faces)
    out = []
    with progress() as bar:
        task = bar.add_task("likelihood maps", total=2 * len(cubes.images), info="")
        for images in (cubes.images, cubes.compare):
            scores = maps.context_scores(trained.model, images, trained.masks, c.terms, density, sigma, int(c.chunk),
                                         on_chunk=lambda n: bar.update(task, advance=n))
            out.append(maps.normalise(scores, groups, float(c.temperature)))
    return Maps(*out)


def train_second_level(train_maps: Tensor, cfg) -> tuple[second_level.MapAutoencoder, list[float]]:
    c = cfg.concept
    with progress() as bar:
        task = bar.add_task("second level", total=int(c.restarts) * int(c.steps), info="")
        return second_level.train(train_maps, int(c.hidden), int(c.latent), int(c.steps), int(c.batch_size),
                                  float(c.lr), int(c.restarts), int(cfg.seed),
                                  on_step=lambda loss: bar.update(task, advance=1, info=f"loss {loss:.4f}"))


@torch.no_grad()
def latents(ae: second_level.MapAutoencoder, m: Tensor) -> np.ndarray:
    """The first rescaled latent component of each map (the one the measures use)."""
    return ae.latent01(m)[:, 0].float().cpu().numpy()


def map_measures(ae, m: Maps, cubes: Cubes, train: np.ndarray, test: np.ndarray,
                 far_deg: float) -> tuple[dict, measures.MonotoneFit]:
    """Spearman and angle error of the latent on held-out cubes (fit on training cubes); map cosines."""
    fit = measures.MonotoneFit(latents(ae, m.digit[train]), cubes.angles[train])
    u = latents(ae, m.digit[test])
    held = m.digit[test].float().cpu()
    return {
        "spearman_latent_angle": measures.spearman(u, cubes.angles[test]),
        "angle_mae_deg": float(np.abs(fit(u) - cubes.angles[test]).mean()),
        "map_cosine_same_angle_different_digit": float(maps.cosine_rows(held, m.compare[test].float().cpu()).mean()),
        "map_cosine_different_angle": measures.mean_cosine_far_apart(held.numpy(), cubes.angles[test], far_deg),
    }, fit


@torch.no_grad()
def decoded_maps(ae: second_level.MapAutoencoder, u: np.ndarray, device) -> np.ndarray:
    """Maps [n, C] the second level decodes at rescaled latents u [n] (every component set to u)."""
    uu = torch.as_tensor(u, dtype=torch.float32, device=device)[:, None].expand(-1, ae.latent).contiguous()
    return ae.decode01(uu).float().cpu().numpy()


@torch.no_grad()
def project(trained: TrainedModel, ae, code: Tensor, u: np.ndarray, cubes: Cubes, fraction: float) -> np.ndarray:
    """Cube images [n, H, W] in 0..1 drawn with one first-level code at second-level latents u [n]:
    decode the map, pick its peaks, decode the code in those contexts, compose with the masks."""
    contexts = backproject.pick_peaks(decoded_maps(ae, u, code.device), cubes.faces, cubes.yaws, fraction)
    faces = backproject.decode_in_contexts(trained.model, code, contexts)
    images = backproject.compose(faces, trained.masks.flatten(1).float(), contexts)
    return images.reshape(len(u), *trained.frame).cpu().numpy()


def true_renders(trained: TrainedModel, texture: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """The same texture on every face of cubes at ``angles``, painted as generate-cubes paints, in 0..1."""
    tex = torch.from_numpy(np.ascontiguousarray(np.broadcast_to(texture, (len(angles), len(SLOTS), *texture.shape))))
    ss = int(trained.dataset_manifest["config"]["render"]["supersample"])  # as model_dir rebuilds the renderer
    return paint_cubes(tex, angles, trained.camera, ss, trained.masks.device).float().div(255).cpu().numpy()


def codes_of(trained: TrainedModel, textures: dict[str, np.ndarray], source: int) -> dict[str, Tensor]:
    """Each texture's first-level code: rendered into the source context and encoded there."""
    rendered = trained.render(np.stack(list(textures.values())))  # [T, C, H, W]
    return {name: backproject.first_level_code(trained.model, rendered[i], source) for i, name in enumerate(textures)}


def backprojection_error(trained: TrainedModel, ae, held_maps: Tensor, codes: dict[str, Tensor],
                        textures: dict[str, np.ndarray], fit, cubes: Cubes, train: np.ndarray, fraction: float) -> dict:
    """Mean squared pixel error (0..1 scale) of the back-projected held-out cubes against true renders
    of the same texture at the angle recovered from their latent, averaged over the textures; the
    baseline predicts the mean training cube image for every one."""
    u = latents(ae, held_maps)
    angles = fit(u)
    mean_cube = cubes.images[train].mean(0, dtype=np.float64) / 255.0  # no float copy of all cubes
    errors, baselines = [], []
    for name, code in codes.items():
        true = true_renders(trained, textures[name], angles)
        projected = project(trained, ae, code, u, cubes, fraction)
        errors.append(float(((projected - true) ** 2).mean()))
        baselines.append(float(((mean_cube[None] - true) ** 2).mean()))
    return {"mse": float(np.mean(errors)), "baseline_mse": float(np.mean(baselines))}
