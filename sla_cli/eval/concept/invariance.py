"""Texture invariance, the paper's claim: the second level (and every control) learned on cubes of one
digit reads the angle of cubes of every other texture. One row per texture: angle error (95% interval
over cubes) and Spearman for each reader, and how close the texture's maps are to the trained
digit's maps at the same angles (temperature-free). The summary pools the unseen textures and
compares each reader with itself on the trained digit and ours with each control, paired by cube."""

from __future__ import annotations

import numpy as np

from sla_cli.eval.concept import controls, measures, textures
from sla_cli.eval.concept.evaluate import normalised, numpy_groups

TARGET_RATIO = 1.5  # the target: unseen-texture angle error at most 1.5x the trained digit's


def texture_row(
    name: str,
    seen: bool,
    scores,
    images: np.ndarray,
    readers: dict,
    choice,
    ref_raw: np.ndarray,
    angles: np.ndarray,
    truth: np.ndarray,
    faces: list[str],
    union,
    seed: int,
) -> dict:
    """One texture's row; its per-cube errors ride along under "abs_errors" (dropped before writing)."""
    groups = numpy_groups(faces)
    x = controls.Inputs(
        normalised(scores, faces, choice.blank_rule, choice.temperature), controls.pixel_vectors(images, union)
    )
    raw = scores.raw(choice.blank_rule).float().cpu().numpy()
    row = {
        "texture": name,
        "kind": textures.kind(name),
        "seen_in_training": seen,
        "cubes": len(angles),
        "readers": {},
        "map_spearman_vs_trained_digit": measures.mean_ci(measures.row_spearman(raw, ref_raw, groups), seed=seed),
        "best_context_agreement_vs_trained_digit": measures.best_context_agreement(raw, ref_raw, groups),
        "best_context_correct": measures.best_context_correct(raw, groups, truth),
        "abs_errors": {},
    }
    for key, reader in readers.items():
        r = controls.score(reader, x, angles, seed)
        row["abs_errors"][key] = r.pop("abs_errors")
        row["readers"][key] = r
    return row


def _ratio(unseen: np.ndarray, trained: np.ndarray, seed: int) -> dict:
    """Mean unseen error over mean trained error, with a paired bootstrap interval over cubes."""
    return {
        "value": float(unseen.mean() / trained.mean()),
        "ci95": measures.bootstrap_ci(lambda a, b: a.mean() / b.mean(), unseen, trained, seed=seed),
    }


def _pooled(rows: list[dict], key: str) -> np.ndarray:
    """Per cube, the mean error over the rows' textures (cubes stay paired: same angles in every row)."""
    return np.mean([r["abs_errors"][key] for r in rows], 0)


def summary(rows: list[dict], trained_name: str, seed: int) -> dict:
    """Pooled over the unseen textures (all; digits; glyphs), each reader against itself on the trained
    digit, and ours against each control on the same cubes."""
    trained_row = next(r for r in rows if r["texture"] == trained_name)
    unseen = [r for r in rows if not r["seen_in_training"]]
    if not unseen:
        return {"trained_texture": trained_name, "unseen_textures": []}
    pools = {
        "unseen_textures": unseen,
        "unseen_digits": [r for r in unseen if r["kind"] == "digit"],
        "unseen_glyphs": [r for r in unseen if r["kind"] == "glyph"],
    }
    pools = {name: group for name, group in pools.items() if group}
    per_reader = {}
    for k in controls.READERS:
        trained = trained_row["abs_errors"][k]
        per_reader[k] = {"trained_texture": measures.mean_ci(trained, seed=seed)}
        for name, group in pools.items():
            pooled = _pooled(group, k)
            per_reader[k][name] = measures.mean_ci(pooled, seed=seed)
            per_reader[k][f"{name}_over_trained"] = _ratio(pooled, trained, seed)
    ours = _pooled(unseen, "maps_second_level")
    diff = {k: measures.mean_ci(ours - _pooled(unseen, k), seed=seed) for k in controls.CONTROLS}
    ratios = {name: per_reader["maps_second_level"][f"{name}_over_trained"]["value"] for name in pools}
    return {
        "trained_texture": trained_name,
        "unseen_textures": [r["texture"] for r in unseen],
        "angle_mae_deg": per_reader,
        "ours_minus_control_unseen_angle_mae_deg": diff,
        "targets": {
            **{f"{name}_at_most_{TARGET_RATIO:g}x_trained": bool(v <= TARGET_RATIO) for name, v in ratios.items()},
            "unseen_below_every_control": all(d["mean"] < 0 for d in diff.values()),
            "maps_beat_pixels_on_unseen": bool(diff["pixels_autoencoder"]["mean"] < 0),
            "maps_beat_pixels_on_unseen_ci_excludes_0": bool(diff["pixels_autoencoder"]["ci95"][1] < 0),
        },
    }


def evaluate_textures(
    trained,
    scorer,
    readers: dict,
    choice,
    ref_raw: np.ndarray,
    angles: np.ndarray,
    truth: np.ndarray,
    faces: list[str],
    face_textures: dict,
    trained_name: str,
    seed: int,
) -> tuple[list[dict], dict, dict]:
    """(rows, summary, one cube image per texture for the figure)."""
    union = controls.mask_union(trained.masks)
    rows, thumbs = [], {}
    for name, tex in face_textures.items():
        images = textures.paint(trained, tex, angles)
        scores = scorer(images, f"maps: cubes of {name}")
        rows.append(
            texture_row(
                name, name == trained_name, scores, images, readers, choice, ref_raw, angles, truth, faces, union, seed
            )
        )
        thumbs[name] = images[0]
    out = summary(rows, trained_name, seed)
    for r in rows:
        del r["abs_errors"]
    return rows, out, thumbs
