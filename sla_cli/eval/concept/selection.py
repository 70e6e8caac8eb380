"""What the stage chooses, and how: on the *select* cubes only, among stated candidates, by stated
criteria (``MAP_CRITERION``, ``PEAK_CRITERION``). Every candidate's select score goes to concept.json,
so a reader sees what was tried and by how much the choice won; no test cube is looked at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from sla_cli.errors import DataError
from sla_cli.eval.concept import maps, measures, projection
from sla_cli.eval.concept.controls import second_level_code
from sla_cli.eval.concept.inputs import Cubes
from sla_cli.eval.concept.second_level import MapAutoencoder
from sla_cli.eval.concept.splits import Splits
from sla_cli.eval.model_dir import TrainedModel

MAP_CRITERION = (
    "lowest mean absolute angle error on the select cubes, the angle read from the latent of a second "
    "level trained on the fit cubes' maps through a monotone fit on the fit cubes (ties: the earlier "
    "candidate)"
)
PEAK_CRITERION = (
    "lowest mean squared error on the select cubes between the silhouette of the back-projected cube "
    "(the masks of the contexts picked from the map decoded at the cube's latent) and the silhouette "
    "of the cube at its true angle (a white texture on every face): no texture is involved"
)


@dataclass
class MapChoice:
    blank_rule: str
    temperature: float
    maps: Tensor  # [K, C] maps of all the dataset's cubes by the chosen rule and temperature
    ae: MapAutoencoder  # the second level trained on the fit cubes' maps (this candidate's)
    losses: list[float]
    candidates: list[dict]


def choose_map(
    scores: maps.Scores,
    groups: dict,
    angles: np.ndarray,
    splits: Splits,
    rules: list[str],
    temperatures: list[float],
    train: Callable[[Tensor], tuple[MapAutoencoder, list[float]]],
) -> MapChoice:
    """Every (blank rule, temperature) candidate: its maps, a second level trained on their fit rows,
    its angle error on the select rows; the best by ``MAP_CRITERION``."""
    best, best_mae, candidates = None, np.inf, []
    for rule in rules:
        for t in temperatures:
            m = maps.normalise(scores.raw(rule), groups, float(t))
            ae, losses = train(m[splits.fit])
            code = second_level_code(ae)
            fit = measures.MonotoneFit(code(m[splits.fit]), angles[splits.fit])
            u = code(m[splits.select])
            mae = float(np.abs(fit(u) - angles[splits.select]).mean())
            candidates.append(
                {
                    "blank_rule": rule,
                    "temperature": float(t),
                    "select_angle_mae_deg": mae,
                    "select_spearman_latent_angle": measures.spearman(u, angles[splits.select]),
                }
            )
            if mae < best_mae:
                best, best_mae = MapChoice(rule, float(t), m, ae, losses, candidates), mae
    if best is None:  # every candidate's select error was NaN: nothing to choose, and no map to go on with
        raise DataError(
            f"eval concept: none of the {len(candidates)} candidate maps (blank rules {list(rules)}, temperatures "
            f"{[float(t) for t in temperatures]}) gave a finite angle error on the select cubes"
        )
    return best


def choose_peak_fraction(
    trained: TrainedModel,
    ae: MapAutoencoder,
    select_maps: Tensor,
    select_angles: np.ndarray,
    cubes: Cubes,
    fractions: list[float],
) -> tuple[float, list[dict]]:
    """The peak fraction by ``PEAK_CRITERION``, and every candidate's select error."""
    u = second_level_code(ae)(select_maps)
    truth = projection.true_silhouettes(trained, select_angles)
    rows = []
    for f in fractions:
        contexts = projection.contexts_at(ae, u, cubes, float(f), trained.masks.device)
        mse = float(((projection.silhouettes(trained, contexts) - truth) ** 2).mean())
        rows.append({"peak_fraction": float(f), "select_silhouette_mse": mse})
    best = min(rows, key=lambda r: r["select_silhouette_mse"])  # min keeps the first of equals
    return best["peak_fraction"], rows
