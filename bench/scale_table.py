"""The scale study's table (bench/scale.py): one row per point, read from its run folders' JSON only.

Every file is read through its folder's manifest (kind checked, sha256 verified); a stage whose folder
is missing, incomplete or unreadable gives no numbers, and the row says which. Training FLOPs are
counted by bench/flops.py from the shapes the model's manifest and config record (contexts, pixels,
hidden, latent, batch) and the steps its metrics.json says were trained.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.flops import run_flops
from bench.scale_grid import PAPER_PRESET, STAGES, Point, Study
from sla_cli import runfolder
from sla_cli.errors import DataError

FLOPS_HOW = (
    "bench/flops.py run_flops(contexts, pixels, hidden, latent, batch, steps): matmuls (forward, weight "
    "and input gradients), loss and masks, biases and ReLU, Adam; counted from the model's manifest "
    "and config and its metrics.json steps. Data loading and evaluation are not counted."
)
KINDS = {
    "model": ("model", "metrics.json"),
    "oneshot": ("oneshot", "oneshot.json"),
    "oneshot_fonts": ("oneshot", "oneshot.json"),
    "concept": ("concept", "concept.json"),
}
PROTOCOLS = ("paper", "same_instance", "new_instances")
ONESHOT_METHODS = {"ours": None, "oracle": "oracle_pixel_nn", "pixel_nn": "pixel_nn"}
GLYPHS = {"oneshot": "builtin", "oneshot_fonts": "fonts"}
CONCEPT_CONTROLS = {"maps_pca": "maps_pca", "pixels_autoencoder": "pixels_ae"}  # eval/concept/controls.py's readers


def paper_preset_flops() -> float:
    p = PAPER_PRESET
    return run_flops(p["contexts"], p["dim"], p["hidden"], p["latent"], p["batch"], p["steps"])


def read_stage(folder: Path, stage: str) -> tuple[dict, dict | None]:
    """({"status", "identity", "wall_seconds"}, the stage's JSON or None)."""
    kind, name = KINDS[stage]
    if not folder.is_dir():
        return {"status": "not run"}, None
    if not (folder / runfolder.MANIFEST).exists():
        return {"status": "incomplete (no manifest.json: stopped, failed or running)"}, None
    try:
        manifest = runfolder.read_manifest(folder, kind)
        data = _json(runfolder.verify_file(folder, manifest, name))
    except DataError as e:
        return {"status": f"unreadable: {e}"}, None
    info = {"status": "complete", "identity": manifest["identity"], "wall_seconds": manifest.get("wall_seconds")}
    return info, (data, manifest)


def _json(path: Path):
    return json.loads(path.read_text())


def _model_measures(metrics: dict) -> dict:
    cross = metrics["test_cross_mse"]
    return {
        "self_mse": metrics["test_self_mse"],
        "cross_mse": cross,
        "cross_over_mean_floor": cross / metrics["mean_image_mse"],
        "cross_over_class_floor": cross / metrics["class_mean_image_mse"],
        "latent_ratio_digits": metrics["latent_distance_ratio"],
    }


def _oneshot_measures(result: dict, glyphs: str) -> tuple[dict, dict]:
    values, ci = {f"{glyphs}.glyph_distance_ratio": result["distance"]["ratio"]}, {}
    for protocol in PROTOCOLS:
        for method, baseline in ONESHOT_METHODS.items():
            r = result["protocols"][protocol] if baseline is None else result["baselines"][baseline][protocol]
            key = f"{glyphs}.{protocol}.{method}"
            values[key], ci[key] = r["mean_accuracy"], r["ci95"]
    return values, ci


def _concept_measures(result: dict) -> tuple[dict, dict]:
    """Ours and two controls: the maps' first principal component (does the second level add anything?)
    and the same one-latent autoencoder on raw pixels (do the maps beat the pixels?)."""
    on_test = result["readers"]["on_test_cubes"]
    unseen = result["textures"]["summary"].get("angle_mae_deg", {})
    values = {
        "concept.spearman": result["spearman_latent_angle"],
        "concept.angle_mae_deg": result["angle_mae_deg"],
        "concept.map_cosine_same_angle": result["map_cosine_same_angle_different_digit"],
        "concept.map_cosine_far_angle": result["map_cosine_different_angle"],
    }
    ci = {
        "concept.spearman": result["ci95"]["spearman_latent_angle"],
        "concept.angle_mae_deg": result["ci95"]["angle_mae_deg"],
    }
    for reader, name in CONCEPT_CONTROLS.items():
        values[f"concept.{name}_angle_mae_deg"] = on_test[reader]["angle_mae_deg"]["mean"]
    for reader, name in {"maps_second_level": "unseen_texture", **CONCEPT_CONTROLS}.items():
        if "unseen_textures" in unseen.get(reader, {}):
            key = "concept.unseen_texture_mae_deg" if name == "unseen_texture" else f"concept.unseen_{name}_mae_deg"
            values[key], ci[key] = unseen[reader]["unseen_textures"]["mean"], unseen[reader]["unseen_textures"]["ci95"]
    ours = unseen.get("maps_second_level", {})
    if "unseen_textures_over_trained" in ours:
        values["concept.unseen_over_trained"] = ours["unseen_textures_over_trained"]["value"]
        ci["concept.unseen_over_trained"] = ours["unseen_textures_over_trained"]["ci95"]
    return values, ci


def point_row(study: Study, root: Path, p: Point) -> dict:
    """One point's row: its stages' states and identities, training FLOPs, time, device, every measure."""
    folder = root / "points" / p.name
    row = {
        "name": p.name,
        "dataset": p.dataset,
        "frame": study.frames[p.dataset],
        "hidden": p.hidden,
        "steps": p.steps,
        "seed": p.seed,
        "folder": str(folder),
        "stages": {},
        "measures": {},
        "ci95": {},
        "planned_training_flops": study.flops(p),
    }
    for stage in STAGES:
        info, read = read_stage(folder / stage, stage)
        row["stages"][stage] = info
        if read is None:
            continue
        data, manifest = read
        if stage == "model":
            row.update(training_figures(data, manifest))
            row["measures"].update(_model_measures(data))
        elif stage == "concept":
            values, ci = _concept_measures(data)
            row["measures"].update(values)
            row["ci95"].update(ci)
        else:
            values, ci = _oneshot_measures(data, GLYPHS[stage])
            row["measures"].update(values)
            row["ci95"].update(ci)
    row["complete"] = all(s["status"] == "complete" for s in row["stages"].values())
    return row


def training_figures(metrics: dict, manifest: dict) -> dict:
    m, cfg = manifest["model"], manifest["config"]
    shapes = {
        "contexts": m["n_members"],
        "dim": m["dim"],
        "hidden": m["hidden"],
        "latent": m["latent"],
        "batch": cfg["train"]["batch_size"],
        "steps": metrics["steps"],
    }
    flops = run_flops(**shapes)
    return {
        "shapes": shapes,
        "training_flops": flops,
        "flops_how": FLOPS_HOW,
        "train_seconds": metrics["train_seconds"],
        "device": metrics["device"],
        "gflops_per_s": flops / metrics["train_seconds"] / 1e9 if metrics["train_seconds"] > 0 else None,
    }


def all_finite(row: dict) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in row["measures"].values())


# ---- markdown ----


def _num(v, digits: int = 3, scale: float = 1.0) -> str:
    return "–" if v is None else f"{v * scale:.{digits}f}"


def _pct(row: dict, key: str) -> str:
    v = row["measures"].get(key)
    return "–" if v is None else f"{100 * v:.1f}"


def _trio(row: dict, glyphs: str, protocol: str) -> str:
    return " / ".join(_pct(row, f"{glyphs}.{protocol}.{m}") for m in ONESHOT_METHODS)


def _with_ci(row: dict, key: str, digits: int) -> str:
    v, ci = row["measures"].get(key), row["ci95"].get(key)
    if v is None:
        return "–"
    return f"{v:.{digits}f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else "")


def _table(header: list[str], lines: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(x) + " |" for x in lines]


def _stage_id(row: dict, stage: str) -> str:
    info = row["stages"][stage]
    return info.get("identity") or ("–" if info["status"] == "not run" else info["status"].split(" ")[0])


def _run_line(r: dict) -> list[str]:
    planned = f"({r['planned_training_flops'] / 1e12:.4g})"
    flops = f"{r['training_flops'] / 1e12:.4g}" if "training_flops" in r else planned
    return [
        r["name"],
        f"{r['frame']}x{r['frame']}",
        str(r["hidden"]),
        str(r["steps"]),
        str(r["seed"]),
        flops,
        _num(r.get("train_seconds"), 0),
        _num(r.get("gflops_per_s"), 1),
        r.get("device", "–"),
        *[_stage_id(r, s) for s in STAGES],
    ]


def _latent_line(r: dict) -> list[str]:
    m = r["measures"]
    return [
        r["name"],
        _num(m.get("cross_over_mean_floor")),
        _num(m.get("cross_over_class_floor")),
        _num(m.get("latent_ratio_digits"), 2),
        _num(m.get("builtin.glyph_distance_ratio"), 2),
        _num(m.get("fonts.glyph_distance_ratio"), 2),
        _pct(r, "builtin.paper.ours"),
        _trio(r, "builtin", "same_instance"),
        _trio(r, "builtin", "new_instances"),
        _trio(r, "fonts", "new_instances"),
    ]


def _concept_line(r: dict) -> list[str]:
    m = r["measures"]
    controls = " / ".join(_num(m.get(f"concept.{c}_angle_mae_deg"), 1) for c in CONCEPT_CONTROLS.values())
    unseen = " / ".join(_num(m.get(f"concept.unseen_{c}_mae_deg"), 1) for c in CONCEPT_CONTROLS.values())
    return [
        r["name"],
        _with_ci(r, "concept.spearman", 3),
        _with_ci(r, "concept.angle_mae_deg", 1),
        controls,
        _with_ci(r, "concept.unseen_texture_mae_deg", 1),
        _with_ci(r, "concept.unseen_over_trained", 2),
        unseen,
        _num(m.get("concept.map_cosine_same_angle"), 3),
        _num(m.get("concept.map_cosine_far_angle"), 3),
    ]


def _missing(r: dict) -> str:
    if all(i["status"] == "not run" for i in r["stages"].values()):
        return f"{r['name']} (not run)"
    stages = [f"{s}: {i['status']}" for s, i in r["stages"].items() if i["status"] != "complete"]
    return f"{r['name']} ({', '.join(stages)})"


def markdown(rows: list[dict], study: Study, command: str, written_by: str | None = None) -> str:
    missing = [_missing(r) for r in rows if not r["complete"]]
    state = f"Complete points: {sum(r['complete'] for r in rows)} of {len(rows)}."
    by = f"; this table was written by `{written_by}`" if written_by and written_by != command else ""
    return "\n".join(
        [
            f"# Scale study (preset {study.preset})",
            "",
            f"Made by `{command}` (rerun it to continue{by}).",
            "",
            state + (" Missing: " + "; ".join(missing) + "." if missing else ""),
            "",
            f"Training FLOPs: {FLOPS_HOW} In parentheses: planned, for a point not trained yet. The paper preset "
            f"(hidden 2048, 48x48, batch 256, 20,000 steps) would take {paper_preset_flops() / 1e12:,.0f} TFLOP.",
            "",
            "## Runs",
            "",
            *_table(
                [
                    "point",
                    "frame",
                    "hidden",
                    "steps",
                    "seed",
                    "training TFLOP",
                    "train s",
                    "GFLOP/s",
                    "device",
                    *[f"{s} id" for s in STAGES],
                ],
                [_run_line(r) for r in rows],
            ),
            "",
            "## Shared latent space and one-shot recognition",
            "",
            "Cross MSE over the mean-image and class-mean floors (test digits, all contexts); latent distance ratio "
            "(different / same; paper 6.34 for its glyphs); one-shot accuracy %, mean over the other contexts, "
            "ours / oracle pixel NN (flat glyphs) / pixel NN (frames).",
            "",
            *_table(
                [
                    "point",
                    "cross / mean floor",
                    "cross / class floor",
                    "ratio digits",
                    "ratio glyphs",
                    "ratio fonts",
                    "2-way (paper 100)",
                    "same instance 10-way",
                    "new instances 10-way",
                    "fonts new instances",
                ],
                [_latent_line(r) for r in rows],
            ),
            "",
            "## The cube concept",
            "",
            "Held-out test cubes of the trained digit: Spearman(second-level latent, angle) and the angle read back "
            "(degrees) by ours and by the controls (the maps' first principal component / the same one-latent "
            "autoencoder on raw pixels); the same on cubes of unseen textures (other digits and glyphs), and ours "
            "over itself on the trained digit; map cosine, same angle different digit and 20+ degrees apart. "
            "[95% intervals over cubes]",
            "",
            *_table(
                [
                    "point",
                    "Spearman",
                    "angle error",
                    "maps PCA / pixel AE",
                    "unseen-texture error",
                    "unseen / trained",
                    "unseen: maps PCA / pixel AE",
                    "map cos same angle",
                    "map cos far",
                ],
                [_concept_line(r) for r in rows],
            ),
            "",
        ]
    )
