"""The cube concept (`sla eval concept`, paper section 11): what was chosen on which split, the four
angle readers on the test cubes, the maps' own measures, back-projection against its oracle and
baselines; texture invariance is in ``report.textures``.

concept.json: every number from the *test* cubes; ``splits`` (fit / select / test counts),
``selection`` (criterion, candidates, chosen: on the select cubes only), ``map.{name, definition}``,
``readers.on_test_cubes.<reader>.{angle_mae_deg{mean, ci95}, spearman_latent_angle{value, ci95}}``,
``temperature_free``, ``backprojection.{mse, oracle_mse, texture_mean_mse, baseline_mse, ci95}`` (at the
cube's true angle). A run made before these keys shows them as "not reported".
"""

from __future__ import annotations

from sla_cli.report import textures
from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import NOT_REPORTED, cell, derived, estimate, first, is_number, ratio, text, unpaired

READERS = {
    "maps_second_level": "ours: the second level's one latent, on the maps",
    "maps_pca": "control: first principal component of the maps (no training)",
    "pixels_autoencoder": "control: the same one-latent autoencoder on the raw cube pixels",
    "pixels_pca": "control: first principal component of the raw cube pixels",
}
PAINTERS = {
    "mse": "ours: contexts read from the map decoded at the cube's second-level latent",
    "oracle_mse": "oracle: the cube's true contexts (what is left when the contexts are right)",
    "texture_mean_mse": "the texture's own render averaged over angles (knows the texture, not the angle)",
    "baseline_mse": "the mean training cube image",
}


def angle_error(k: Stage, reader: str, unit: str = "") -> str:
    """A reader's mean absolute angle error on the test cubes, degrees [95% interval over cubes];
    ours falls back to the top-level keys of runs made before the controls."""
    found = estimate(
        k,
        ("readers", "on_test_cubes", reader, "angle_mae_deg", "mean"),
        ("readers", "on_test_cubes", reader, "angle_mae_deg", "ci95"),
        unit=unit,
    )
    if found == NOT_REPORTED and reader == "maps_second_level":
        return estimate(k, ("angle_mae_deg",), ("ci95", "angle_mae_deg"), unit=unit)
    return found


def spearman(k: Stage, reader: str) -> str:
    found = estimate(
        k,
        ("readers", "on_test_cubes", reader, "spearman_latent_angle", "value"),
        ("readers", "on_test_cubes", reader, "spearman_latent_angle", "ci95"),
        digits=3,
    )
    if found == NOT_REPORTED and reader == "maps_second_level":
        return estimate(k, ("spearman_latent_angle",), ("ci95", "spearman_latent_angle"), digits=3)
    return found


def strongest_reader(k: Stage) -> str | None:
    """The control with the lowest angle error on the test cubes in the first run."""
    errors = {r: first(k, "readers", "on_test_cubes", r, "angle_mae_deg", "mean") for r in READERS}
    controls = {r: e for r, e in errors.items() if r != "maps_second_level" and is_number(e)}
    return min(controls, key=controls.get) if controls else None


def backprojection(k: Stage, painter: str) -> str:
    return estimate(k, ("backprojection", painter), ("backprojection", "ci95", painter), digits=4)


def reader_vs_ours(k: Stage, reader: str) -> str:
    """Ours against a reader on the test cubes of the trained digit, from the two intervals."""
    at = ("readers", "on_test_cubes")
    return unpaired(
        k,
        (*at, "maps_second_level", "angle_mae_deg", "mean"),
        (*at, "maps_second_level", "angle_mae_deg", "ci95"),
        (*at, reader, "angle_mae_deg", "mean"),
        (*at, reader, "angle_mae_deg", "ci95"),
        better="lower",
    )


def painter_vs_ours(k: Stage, painter: str) -> str:
    """Ours against another painter of the back-projected cubes, from the two intervals."""
    return unpaired(
        k,
        ("backprojection", "mse"),
        ("backprojection", "ci95", "mse"),
        ("backprojection", painter),
        ("backprojection", "ci95", painter),
        better="lower",
    )


def reference(k: Stage) -> str:
    found = first(k, "backprojection", "reference")
    return (
        escape(found)
        if found is not None
        else "not stated by this run (runs before the test split scored against the render at the predicted angle)"
    )


def setup(k: Stage) -> str:
    """The splits, the map named for what it is, and what was chosen on which split."""
    counts = " / ".join(f"{part} {cell(k, 'splits', 'counts', part, digits=0)}" for part in ("fit", "select", "test"))
    chosen = first(k, "selection", "map", "chosen")
    rule = (
        f"{escape(chosen.get('blank_rule'))} at temperature {escape(chosen.get('temperature'))}"
        if isinstance(chosen, dict)
        else NOT_REPORTED
    )
    return (
        f"Cubes split fit / select / test: {counts}. Every number below is from the test cubes. "
        f"The map is the **{text(k, 'map', 'name')}**: {text(k, 'map', 'definition')}. "
        f"Chosen on the select cubes: the map's rule {rule}, by {text(k, 'selection', 'map', 'criterion')}; "
        f"the back-projection's peak fraction {text(k, 'selection', 'peak_fraction', 'chosen')}, by "
        f"{text(k, 'selection', 'peak_fraction', 'criterion')}."
    )


def _candidates(k: Stage) -> list[str]:
    found = first(k, "selection", "map", "candidates")
    if not isinstance(found, list) or not found:
        return ["Candidates tried on the select cubes: not reported by this run.", ""]
    chosen = first(k, "selection", "map", "chosen")
    rows = []
    for i, c in enumerate(found):
        c = c if isinstance(c, dict) else {}
        mark = (
            "**chosen**"
            if isinstance(chosen, dict) and all(c.get(key) == chosen.get(key) for key in ("blank_rule", "temperature"))
            else ""
        )
        rows.append(
            [
                escape(c.get("blank_rule", "?")),
                escape(c.get("temperature", "?")),
                cell(k, "selection", "map", "candidates", i, "select_angle_mae_deg"),
                cell(k, "selection", "map", "candidates", i, "select_spearman_latent_angle", digits=3),
                mark,
            ]
        )
    return [
        "Map candidates, each scored on the select cubes only (a second level trained on the fit cubes):",
        "",
        *table(["blank rule", "temperature", "select angle error, degrees", "select Spearman", ""], rows),
        "",
    ]


def _readers(k: Stage) -> list[str]:
    rows = [
        [escape(name), angle_error(k, r), spearman(k, r), "–" if r == "maps_second_level" else reader_vs_ours(k, r)]
        for r, name in READERS.items()
    ]
    return [
        "Angle readers on the test cubes of the trained digit (each fitted on the fit cubes; intervals over "
        "cubes, not paired: the paired differences are on the unseen textures below):",
        "",
        *table(
            [
                "reader",
                "angle error, degrees [95% interval]",
                "Spearman(code, angle) [95% interval]",
                "ours against it (angle error)",
            ],
            rows,
        ),
        "",
    ]


def _maps(k: Stage) -> list[str]:
    free = ("temperature_free",)
    rows = [
        [
            "cosine of the maps of two digits' cubes at the same angle",
            cell(k, "map_cosine_same_angle_different_digit", digits=3),
            f"maps 20+ degrees apart: {cell(k, 'map_cosine_different_angle', digits=3)}",
        ],
        [
            "Spearman between those maps (no temperature)",
            estimate(
                k,
                (*free, "map_spearman_same_angle_different_digit", "mean"),
                (*free, "map_spearman_same_angle_different_digit", "ci95"),
                digits=3,
            ),
            f"maps 20+ degrees apart: {cell(k, *free, 'map_spearman_different_angle', digits=3)}",
        ],
        [
            "same best context in both digits' maps, per face group",
            text(k, *free, "best_context_agreement_same_angle_different_digit"),
            "–",
        ],
        [
            "best context is one a face truly falls in (trained digit)",
            text(k, *free, "best_context_correct", "digit"),
            "–",
        ],
        ["normalisation of the maps", text(k, "normalisation"), "–"],
    ]
    return ["The maps' own measures (test cubes):", "", *table(["measure", "ours", "control"], rows), ""]


def _backprojection(k: Stage) -> list[str]:
    def over(p: str) -> str:
        return derived(k, lambda r: ratio(r, ("backprojection", "mse"), ("backprojection", p)), digits=2)

    rows = [
        [name, backprojection(k, p), "–" if p == "mse" else over(p), "–" if p == "mse" else painter_vs_ours(k, p)]
        for p, name in PAINTERS.items()
    ]
    textures_seen = first(k, "backprojection", "per_texture")
    if isinstance(textures_seen, dict):
        rows += [
            [
                f"ours, {escape(t)} cubes only",
                cell(k, "backprojection", "per_texture", t, "mse", digits=4),
                derived(
                    k,
                    lambda r, t=t: ratio(
                        r,
                        ("backprojection", "per_texture", t, "mse"),
                        ("backprojection", "per_texture", t, "oracle_mse"),
                    ),
                    digits=2,
                )
                + " (its oracle)",
                "",
            ]
            for t in textures_seen
        ]
    return [
        f"Back-projection (figures 15, 16), per-pixel squared error against {reference(k)}; "
        f"peak fraction {cell(k, 'backprojection', 'peak_fraction')}. The oracle paints the same code in the "
        "cube's true contexts (the error left when the contexts are right); the texture's mean render knows the "
        'texture but not the angle; "ours against it" compares the two intervals (no paired difference is '
        "written).",
        "",
        *table(["painted with", "MSE [95% interval]", "ours / it", "ours against it"], rows),
        "",
    ]


def section(k: Stage) -> list[str]:
    out = ["### The concept: what was chosen where, the readers, back-projection (`sla eval concept`)", ""]
    if not k.complete:
        return out + [f"*concept/: {k.status}* ({escape(k.reason)})", ""]
    return out + [setup(k), "", *_candidates(k), *_readers(k), *_maps(k), *textures.section(k), *_backprojection(k)]
