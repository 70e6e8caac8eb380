"""The stages' JSON in their current shapes (issues 20, 21, 23), small and written by hand, for the
report's tables: classify's results.json with seeds and paired tests, oneshot.json with every
baseline and paired differences, concept.json with splits, readers, textures and back-projection,
density.json with its standard error and anchors."""

from __future__ import annotations

from report.test_report import PROTOCOLS

SCORINGS = ("recon", "full", "calibrated")


def classify_seed(recon: float) -> dict:
    return {
        "ae_set": {
            "recon": {"accuracy": recon, "val_accuracy": 0.979},
            "full": {"accuracy": 0.9709, "val_accuracy": 0.9722, "ece": 0.029, "nll": 8.78},
            "calibrated": {"accuracy": 0.982, "val_accuracy": 0.9832, "ece": 0.0029, "nll": 0.064},
        },
        "mlp": {"accuracy": 0.9832, "val_accuracy": 0.9802, "ece": 0.0045, "nll": 0.0551},
        "mlp_matched": {"accuracy": 0.9857, "val_accuracy": 0.9852, "ece": 0.0092, "nll": 0.0597},
    }


def comparison(scoring: str, baseline: str, difference: float, low: float, high: float, ps: list) -> dict:
    return {
        "set_scoring": scoring,
        "baseline": baseline,
        "difference": difference,
        "difference_std": None,
        "ci95_low": low,
        "ci95_high": high,
        "seeds_set_better_p05": 0,
        "seeds_mlp_better_p05": sum(p < 0.05 for p in ps),
        "per_seed": [{"seed": i, "difference": difference, "mcnemar_p_exact": p} for i, p in enumerate(ps)],
    }


def classify_results(recon: tuple = (0.9791,)) -> dict:
    """results.json as sla_cli/classify/stage.py writes it (the parts the report reads)."""
    n = len(recon)
    per_seed = [classify_seed(r) for r in recon]
    ps = [0.0084, 0.02, 0.5][:n]
    comparisons = {
        f"{s}_vs_{m}": comparison(s, m, -0.0041, -0.007, -0.0012, ps) for s in SCORINGS for m in ("mlp", "mlp_matched")
    }
    comparisons["calibrated_vs_mlp"] = comparison("calibrated", "mlp", -0.0012, -0.0039, 0.0016, [0.45] * n)
    return {
        **per_seed[0],
        "std": None,
        "per_seed": per_seed,
        "paired": {"n_boot": 2000, "comparisons": comparisons},
        "tuning": {"enabled": False, "winner_on_validation": ["mlp_matched"] * n},
        "paper": {"ae_set": 0.986, "mlp": 0.984},
        "seeds": list(range(n)),
        "n_train": 55000,
        "train_per_class": None,
        "n_val": 5000,
        "n_test": 10000,
        "arch": {
            "ae_hidden": 512,
            "latent": 16,
            "mlp_hidden": 512,
            "mlp_matched_hidden": 1669,
            "mlp_matched_layers": 2,
        },
        "parameters": {"ae_set": 4114240, "mlp": 407050, "mlp_matched": 4114095},
        "inputs": {"ae_set": "grey", "mlp": "grey", "mlp_matched": "grey"},
        "class_prior": {
            "from": "training label counts",
            "use": {"recon": "none (the paper's rule)", "full": "+ log prior", "calibrated": "in its fitted bias"},
            "mlp": "learned",
        },
        "training_loss": "mse (the paper's L2)",
    }


def summary(n_classes: int, mean: float, low: float, high: float, all_right: int, probes: int) -> dict:
    return {
        "n_classes": n_classes,
        "per_context_accuracy": [mean] * 100,
        "mean_accuracy": mean,
        "min_accuracy": round(mean / 2, 4),
        "contexts_all_correct": all_right,
        "other_contexts": 99,
        "ci95": [low, high],
        "n_probes": probes,
    }


def oneshot_json() -> dict:
    """oneshot.json as sla_cli/eval/oneshot/report.py writes it: ours below the oracle and the
    contrastive encoder on new instances, above every other baseline; the shared AE skipped."""

    def protocols(new: float, low: float, high: float) -> dict:
        return {
            "paper": summary(2, 0.9848, 0.9747, 0.9949, 94, 6),
            "same_instance": summary(10, 0.9623, 0.9485, 0.9724, 84, 30),
            "new_instances": summary(10, new, low, high, 0, 330),
        }

    def minus(d: float, low: float, high: float) -> dict:
        return {p: {"difference": d, "ci95": [low, high]} for p in PROTOCOLS}

    return {
        "protocols": protocols(0.7861, 0.7392, 0.8264),
        "baselines": {
            "oracle_pixel_nn": protocols(0.8455, 0.7727, 0.9212),
            "pixel_nn": protocols(0.1182, 0.0916, 0.1464),
            "no_cross": protocols(0.0981, 0.0836, 0.1149),
            "shared_ae": "skipped",
            "contrastive": protocols(0.8669, 0.8178, 0.9098),
        },
        "ours_minus": {
            "oracle_pixel_nn": minus(-0.0594, -0.1148, 0.001),
            "pixel_nn": minus(0.6679, 0.6128, 0.7165),
            "no_cross": minus(0.688, 0.6355, 0.7307),
            "contrastive": minus(-0.0808, -0.132, -0.031),
        },
        "distance": {
            "same_glyph_across_contexts": {"mean": 2.0715, "std": 0.8541},
            "different_glyph_same_context": {"mean": 7.086, "std": 2.0923},
            "ratio": 3.421,
        },
        "glyphs": {
            "mode": "fonts",
            "source": "fonts",
            "classes": ["A", "B"],
            "seeds": [0, 1, 2],
            "draws": [{"seed": s, "classes": ["A", "B"]} for s in (0, 1, 2)],
        },
        "intervals": {"level": 0.95, "resamples": 2000, "method": "percentile bootstrap over probes"},
        "paper": {"two_way_contexts": 100, "distance_ratio": 6.34},
    }


def reader(mae: float, low: float, high: float, rho: float) -> dict:
    return {
        "angle_mae_deg": {"mean": mae, "ci95": [low, high]},
        "spearman_latent_angle": {"value": rho, "ci95": [rho - 0.01, rho + 0.01]},
    }


def mean_ci(mean: float, low: float, high: float) -> dict:
    return {"mean": mean, "ci95": [low, high]}


def texture_row(name: str, kind: str, seen: bool, ours: float) -> dict:
    return {
        "texture": name,
        "kind": kind,
        "seen_in_training": seen,
        "cubes": 200,
        "readers": {
            "maps_second_level": reader(ours, ours - 1, ours + 1, 0.9),
            "maps_pca": reader(12.0, 11.0, 13.0, -0.7),
            "pixels_autoencoder": reader(14.8, 12.9, 16.7, -0.4),
            "pixels_pca": reader(21.0, 19.2, 22.9, -0.1),
        },
        "map_spearman_vs_trained_digit": mean_ci(0.553, 0.530, 0.577),
    }


def concept_json() -> dict:
    """concept.json as sla_cli/eval/concept/stage.py writes it; ours worse than the maps' PCA on
    the unseen textures (so the table must say so), better than the pixel controls."""
    pool = {
        "trained_texture": mean_ci(4.68, 4.08, 5.30),
        "unseen_textures": mean_ci(13.42, 12.69, 14.19),
        "unseen_textures_over_trained": {"value": 2.87, "ci95": [2.45, 3.36]},
    }
    return {
        "spearman_latent_angle": 0.964,
        "angle_mae_deg": 4.87,
        "ci95": {"spearman_latent_angle": [0.953, 0.972], "angle_mae_deg": [4.46, 5.33]},
        "map_cosine_same_angle_different_digit": 0.833,
        "map_cosine_different_angle": 0.421,
        "temperature_free": {
            "map_spearman_same_angle_different_digit": mean_ci(0.544, 0.527, 0.562),
            "map_spearman_different_angle": 0.192,
            "best_context_agreement_same_angle_different_digit": {"side": 0.47, "top": 0.095},
            "best_context_correct": {"digit": {"side": 0.6, "top": 0.13}},
        },
        "readers": {
            "on_test_cubes": {
                "maps_second_level": reader(4.87, 4.46, 5.33, 0.964),
                "maps_pca": reader(11.45, 10.73, 12.18, -0.752),
                "pixels_autoencoder": reader(14.53, 13.38, 15.93, -0.405),
                "pixels_pca": reader(21.49, 20.21, 22.81, -0.027),
            }
        },
        "textures": {
            "cubes_per_texture": 200,
            "rows": [
                texture_row("digit 0", "digit", False, 7.77),
                texture_row("digit 5", "digit", True, 4.68),
                texture_row("check glyph", "glyph", False, 19.1),
            ],
            "summary": {
                "trained_texture": "digit 5",
                "unseen_textures": ["digit 0", "check glyph"],
                "angle_mae_deg": {
                    "maps_second_level": pool,
                    "maps_pca": pool,
                    "pixels_autoencoder": pool,
                    "pixels_pca": pool,
                },
                "ours_minus_control_unseen_angle_mae_deg": {
                    "maps_pca": mean_ci(1.03, 0.25, 1.79),
                    "pixels_autoencoder": mean_ci(-5.48, -7.1, -3.9),
                    "pixels_pca": mean_ci(-8.08, -9.6, -6.5),
                },
                "targets": {"unseen_textures_at_most_1.5x_trained": False, "maps_beat_pixels_on_unseen": True},
            },
        },
        "backprojection": {
            "mse": 0.0130,
            "oracle_mse": 0.0078,
            "baseline_mse": 0.0231,
            "texture_mean_mse": 0.0178,
            "ci95": {
                "mse": [0.0126, 0.0135],
                "oracle_mse": [0.0077, 0.0079],
                "baseline_mse": [0.0230, 0.0232],
                "texture_mean_mse": [0.0175, 0.0180],
            },
            "per_texture": {"digit 3": {"mse": 0.0158, "oracle_mse": 0.0084}},
            "peak_fraction": 0.2,
            "reference": "the true render of the same texture at each test cube's true angle",
        },
        "map": {
            "name": "masked reconstruction log-ratio to a blank face",
            "definition": "eq. (4)'s masked reconstruction term, sigma fixed at 1",
            "terms": "recon",
            "blank_rule": "blank_ratio",
        },
        "normalisation": {"rule": "z-score, softmax", "temperature": 1.0, "chosen_on": "select cubes"},
        "splits": {
            "fractions": {"select": 0.2, "test": 0.2},
            "counts": {"fit": 1200, "select": 400, "test": 400},
            "seed": 0,
        },
        "selection": {
            "map": {
                "criterion": "lowest select angle error",
                "candidates": [
                    {
                        "blank_rule": "blank_ratio",
                        "temperature": t,
                        "select_angle_mae_deg": e,
                        "select_spearman_latent_angle": 0.95,
                    }
                    for t, e in ((0.5, 5.48), (1.0, 4.82))
                ],
                "chosen": {"blank_rule": "blank_ratio", "temperature": 1.0},
            },
            "peak_fraction": {"criterion": "lowest select silhouette error", "candidates": [], "chosen": 0.2},
        },
    }


def density_json(nll: float = 88.9, se: float | None = 0.21, anchors=True) -> dict:
    out = {
        "model": "made",
        "binarization": "fixed (Larochelle)",
        "split": "50,000 / 10,000 / 10,000",
        "n_test": 10000,
        "test_nll_nats": nll,
    }
    if se is not None:
        out["test_nll_se_nats"] = se
    if anchors:
        out["anchors"] = [
            {
                "name": "MADE, 1 hidden layer, 32 masks",
                "nats": 88.04,
                "binarization": "fixed (Larochelle)",
                "split": "50,000 / 10,000 / 10,000",
            },
            {"name": "MADE, 2 hidden layers, 32 masks", "nats": 86.64},
        ]
    return out
