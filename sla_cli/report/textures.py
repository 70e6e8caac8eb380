"""Texture invariance, the paper's claim that the concept does not depend on the texture: the readers
learned on cubes of one digit, scored on cubes of every other texture (concept.json ``textures``).

``textures.rows[i]``: one texture, each reader's angle error {mean, ci95} and Spearman, and its maps'
Spearman with the trained digit's; ``textures.summary``: pooled unseen textures (all, digits, glyphs)
per reader with the ratio to the reader's own error on the trained texture, ours − each control on
the same cubes (paired), and the issue's targets.
"""

from __future__ import annotations

from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import NOT_REPORTED, difference, estimate, first

READERS = ("maps_second_level", "maps_pca", "pixels_autoencoder", "pixels_pca")
HEADERS = ("ours (second level on maps)", "maps PCA", "pixel autoencoder", "pixel PCA")
POOLS = {
    "trained_texture": "the trained texture",
    "unseen_textures": "pooled: every unseen texture",
    "unseen_digits": "pooled: unseen digits",
    "unseen_glyphs": "pooled: unseen glyphs",
}
SUMMARY = ("textures", "summary")


def _row_cells(k: Stage, i: int) -> list[str]:
    row = ("textures", "rows", i)
    return [
        estimate(
            k, (*row, "readers", r, "angle_mae_deg", "mean"), (*row, "readers", r, "angle_mae_deg", "ci95"), digits=1
        )
        for r in READERS
    ]


def _pool_cells(k: Stage, pool: str) -> list[str]:
    out = []
    for r in READERS:
        at = (*SUMMARY, "angle_mae_deg", r)
        cell = estimate(k, (*at, pool, "mean"), (*at, pool, "ci95"), digits=1)
        if pool != "trained_texture":
            cell += "; " + estimate(
                k,
                (*at, f"{pool}_over_trained", "value"),
                (*at, f"{pool}_over_trained", "ci95"),
                digits=2,
                unit="x trained",
            )
        out.append(cell)
    return out


def _texture_table(k: Stage, rows: list) -> list[str]:
    body = []
    for i, r in enumerate(rows):
        r = r if isinstance(r, dict) else {}
        name = escape(r.get("texture", "?")) + (" (trained)" if r.get("seen_in_training") is True else "")
        body.append(
            [
                name,
                *_row_cells(k, i),
                estimate(
                    k,
                    ("textures", "rows", i, "map_spearman_vs_trained_digit", "mean"),
                    ("textures", "rows", i, "map_spearman_vs_trained_digit", "ci95"),
                    digits=3,
                ),
            ]
        )
    for pool, name in POOLS.items():
        if first(k, *SUMMARY, "angle_mae_deg", "maps_second_level", pool) is not None:
            body.append([f"*{name}*", *_pool_cells(k, pool), "–"])
    return table(
        [
            "texture",
            *(f"{h}: angle error, degrees [95%]" for h in HEADERS),
            "map Spearman with the trained digit's [95%]",
        ],
        body,
    )


def _differences(k: Stage) -> list[str]:
    at = (*SUMMARY, "ours_minus_control_unseen_angle_mae_deg")
    rows = [
        [h, *difference(k, (*at, r, "mean"), (*at, r, "ci95"), better="lower")]
        for r, h in zip(READERS[1:], HEADERS[1:], strict=True)
    ]
    return [
        "Ours − each control on the unseen textures, the same cubes (paired): negative is ours better; the "
        "claim stands only if ours beats the pixel autoencoder here.",
        "",
        *table(["control", "ours − control, degrees [95% interval]", "verdict"], rows),
        "",
    ]


def _targets(k: Stage) -> list[str]:
    found = first(k, *SUMMARY, "targets")
    if not isinstance(found, dict) or not found:
        return []
    words = {True: "met", False: "**not met**"}
    return [
        "Targets of issue 20 (as the stage judged them): "
        + "; ".join(
            f"{escape(name)}: {words.get(v, escape(v)) if isinstance(v, bool) else escape(v)}"
            for name, v in found.items()
        )
        + ".",
        "",
    ]


def section(k: Stage) -> list[str]:
    rows = first(k, "textures", "rows")
    if not isinstance(rows, list) or not rows:
        return [
            "Texture invariance (the paper's claim that the concept does not depend on the texture): "
            f"{NOT_REPORTED} by this run.",
            "",
        ]
    trained = first(k, *SUMMARY, "trained_texture")
    return [
        f"Texture invariance, the paper's claim: every reader learned on cubes of "
        f"{escape(trained) if trained is not None else NOT_REPORTED} only, scored on cubes of other digits (MNIST "
        "test split) and glyphs at the test cubes' angles. Angle error in degrees [95% interval over cubes]; the "
        "pooled rows add each reader's error as a multiple of its own error on the trained texture.",
        "",
        *_texture_table(k, rows),
        "",
        *_differences(k),
        *_targets(k),
    ]
