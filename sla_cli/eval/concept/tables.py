"""The concept stage's closing tables on the console: the test cubes' measures, the texture
invariance rows with the controls beside ours, and back-projection against its oracle and baselines."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from sla_cli.eval.concept import controls
from sla_cli.runtime import console


def _ci(e: dict, digits: int = 1) -> str:
    lo, hi = e["ci95"]
    return f"{e['mean']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def print_table(result: dict, out_dir: Path, seconds: float, device) -> None:
    chosen = result["selection"]["map"]["chosen"]
    table = Table(
        title=f"sla eval concept -> {out_dir} (test cubes; {result['map']['name']}, "
        f"T={chosen['temperature']:g} chosen on the select cubes)"
    )
    table.add_column("measure (test cubes)")
    table.add_column("value", justify="right")
    for key in (
        "spearman_latent_angle",
        "angle_mae_deg",
        "map_cosine_same_angle_different_digit",
        "map_cosine_different_angle",
    ):
        table.add_row(key, f"{result[key]:.3f}")
    free = result["temperature_free"]
    table.add_row("map Spearman, same angle, other digit", _ci(free["map_spearman_same_angle_different_digit"], 3))
    table.add_row("map Spearman, 20+ deg apart", f"{free['map_spearman_different_angle']:.3f}")
    bp = result["backprojection"]
    table.add_row(
        "back-projection mse: ours / oracle / mean cube / texture mean",
        f"{bp['mse']:.4f} / {bp['oracle_mse']:.4f} / {bp['baseline_mse']:.4f} / {bp['texture_mean_mse']:.4f}",
    )
    console.print(table)

    rows = Table(
        title="angle error, degrees [95% interval], trained on cubes of "
        f"{result['textures']['summary']['trained_texture']} only"
    )
    rows.add_column("texture")
    for key in controls.READERS:
        rows.add_column(key, justify="right")
    for r in result["textures"]["rows"]:
        rows.add_row(
            r["texture"] + (" (trained)" if r["seen_in_training"] else ""),
            *[_ci(r["readers"][k]["angle_mae_deg"]) for k in controls.READERS],
        )
    summary = result["textures"]["summary"]
    ours = summary.get("angle_mae_deg", {}).get("maps_second_level", {})
    for pool in ("unseen_textures", "unseen_digits", "unseen_glyphs"):
        if pool in ours:
            rows.add_row(
                f"{pool.replace('_', ' ')} (x trained: {ours[pool + '_over_trained']['value']:.2f})",
                *[_ci(summary["angle_mae_deg"][k][pool]) for k in controls.READERS],
            )
    console.print(rows)
    if summary.get("targets"):
        console.print("targets: " + ", ".join(f"{k}={v}" for k, v in summary["targets"].items()))
    console.print(f"{seconds:.1f} s on {device}")
