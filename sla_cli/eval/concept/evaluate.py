"""The concept stage's steps on a loaded model: score cubes in every context, train the second level,
and the measures on the test cubes (the maps' own, temperature-free ones, back-projection)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.eval.concept import inputs, maps, measures, projection, second_level
from sla_cli.eval.concept.controls import second_level_code
from sla_cli.eval.concept.inputs import Cubes
from sla_cli.eval.concept.splits import Splits
from sla_cli.eval.model_dir import TrainedModel


class Scorer:
    """Cube images -> per-context scores (``maps.context_scores``) with the stage's terms, sigma and
    chunk, reporting progress to one bar task per call."""

    def __init__(self, trained: TrainedModel, cfg, bar):
        c = cfg.concept
        self.trained, self.terms, self.chunk, self.bar = trained, c.terms, int(c.chunk), bar
        self.density = None
        if c.terms == "full":
            train_images = inputs.train_images(trained.dataset_dir, trained.dataset_manifest)  # sha256 checked
            self.density = maps.fit_density(trained.model, train_images, int(c.density_digits), trained.masks.device)
        model = trained.model
        self.sigma = model.log_sigma.exp() if model.log_sigma is not None else None

    def __call__(self, images: np.ndarray, label: str) -> maps.Scores:
        task = self.bar.add_task(label, total=len(images), info="")
        return maps.context_scores(
            self.trained.model,
            images,
            self.trained.masks,
            self.terms,
            self.density,
            self.sigma,
            self.chunk,
            on_chunk=lambda n: self.bar.update(task, advance=n),
        )


def second_level_trainer(cfg, bar, label: str):
    """``train(x) -> (autoencoder, losses)``: second_level.train with the stage's settings, one bar task per call."""
    c = cfg.concept

    def train(x: Tensor):
        task = bar.add_task(label, total=int(c.restarts) * int(c.steps), info="")
        return second_level.train(
            x,
            int(c.hidden),
            int(c.latent),
            int(c.steps),
            int(c.batch_size),
            float(c.lr),
            int(c.restarts),
            int(cfg.seed),
            on_step=lambda loss: bar.update(task, advance=1, info=f"loss {loss:.4f}"),
        )

    return train


def numpy_groups(faces: list[str]) -> dict[str, np.ndarray]:
    return {f: idx.numpy() for f, idx in maps.face_groups(faces).items()}


def map_measures(
    raw: Tensor,
    compare_raw: Tensor,
    m: Tensor,
    compare_m: Tensor,
    angles: np.ndarray,
    truth: np.ndarray,
    faces: list[str],
    far_deg: float,
    seed: int,
) -> dict:
    """The maps of the test cubes of two digits at the same angles: cosines (at the chosen temperature)
    and the temperature-free measures (Spearman between maps, best context per face group)."""
    groups = numpy_groups(faces)
    a, b = raw.float().cpu().numpy(), compare_raw.float().cpu().numpy()
    va, vb = measures.rank_vectors(a, groups), measures.rank_vectors(b, groups)
    held = m.float().cpu()
    return {
        "map_cosine_same_angle_different_digit": float(maps.cosine_rows(held, compare_m.float().cpu()).mean()),
        "map_cosine_different_angle": measures.mean_cosine_far_apart(held.numpy(), angles, far_deg),
        "temperature_free": {
            "map_spearman_same_angle_different_digit": measures.mean_ci((va * vb).sum(1), seed=seed),
            "map_spearman_different_angle": measures.mean_cosine_far_apart(va, angles, far_deg),
            "best_context_agreement_same_angle_different_digit": measures.best_context_agreement(a, b, groups),
            "best_context_correct": {
                "digit": measures.best_context_correct(a, groups, truth),
                "compare_digit": measures.best_context_correct(b, groups, truth),
            },
        },
    }


def backprojection(
    trained: TrainedModel,
    ae: second_level.MapAutoencoder,
    test_maps: Tensor,
    codes: dict[str, Tensor],
    textures: dict[str, np.ndarray],
    cubes: Cubes,
    splits: Splits,
    fraction: float,
    n_mean: int,
    seed: int,
) -> dict:
    """Per-pixel squared error (0..1 scale) of back-projected test cubes against the true render of the
    same texture at each cube's *true* angle, beside: the oracle (the code painted in the cube's true
    contexts: the best the contexts' decoders can do), the mean fit cube of the dataset and the
    texture's own render averaged over the angles of the first ``n_mean`` fit cubes (knows the
    texture, not the angle)."""
    u = second_level_code(ae)(test_maps)
    contexts = projection.contexts_at(ae, u, cubes, fraction, trained.masks.device)
    angles = cubes.angles[splits.test]
    mean_cube = cubes.images[splits.fit].mean(0, dtype=np.float64) / 255.0
    per_texture: dict = {}
    per_cube: dict[str, list] = {k: [] for k in ("mse", "oracle_mse", "baseline_mse", "texture_mean_mse")}
    for name, code in codes.items():
        true = projection.true_renders(trained, textures[name], angles)
        texture_mean = projection.true_renders(trained, textures[name], cubes.angles[splits.fit[:n_mean]]).mean(0)
        errors = {
            "mse": projection.paint_code(trained, code, contexts),
            "oracle_mse": projection.paint_code(trained, code, cubes.contexts[splits.test]),
            "baseline_mse": mean_cube[None],
            "texture_mean_mse": texture_mean[None],
        }
        errors = {k: ((v - true) ** 2).mean((1, 2)) for k, v in errors.items()}  # per cube
        per_texture[name] = {k: float(v.mean()) for k, v in errors.items()}
        for k, v in errors.items():
            per_cube[k].append(v)
    out = {k: measures.mean_ci(np.mean(v, 0), seed=seed) for k, v in per_cube.items()}
    return {
        **{k: v["mean"] for k, v in out.items()},
        "ci95": {k: v["ci95"] for k, v in out.items()},
        "per_texture": per_texture,
        "peak_fraction": fraction,
        "reference": "the true render of the same texture at each test cube's true angle",
    }


@torch.no_grad()
def normalised(scores: maps.Scores, faces: list[str], rule: str, temperature: float) -> Tensor:
    return maps.normalise(scores.raw(rule), maps.face_groups(faces), temperature)
