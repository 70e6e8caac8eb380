"""oneshot.json (the issue's schema) and the closing rich table."""

from __future__ import annotations

from rich.table import Table

from sla_cli.eval.oneshot.figures import PAPER_DIFFERENT, PAPER_SAME
from sla_cli.eval.oneshot.protocols import PROTOCOLS
from sla_cli.runtime import console

SKIPPED = "skipped"


def oneshot_json(ours: dict, distance: dict, pixel_nn: dict, no_cross: dict | None, glyphs) -> dict:
    return {"protocols": ours, "distance": distance,
            "baselines": {"pixel_nn": pixel_nn, "no_cross": no_cross if no_cross is not None else SKIPPED},
            "glyphs": {"source": glyphs.source, "classes": list(glyphs.names)},
            "paper": {"two_way_contexts": 100, "same": PAPER_SAME, "different": PAPER_DIFFERENT}}


def _cell(summary: dict) -> str:
    return f"{100 * summary['mean_accuracy']:.1f}/{100 * summary['min_accuracy']:.0f}"


def print_table(result: dict, out_dir, source_label: str, n_contexts: int) -> None:
    no_cross = result["baselines"]["no_cross"]
    table = Table(title=f"sla eval oneshot: {out_dir}", caption=f"prototypes from context {source_label}; "
                  "accuracy % mean/min over the other contexts")
    for col in ("protocol", "k", "ours", "all right", "pixel NN", "no cross"):
        table.add_column(col, justify="left" if col == "protocol" else "right")
    for name in PROTOCOLS:
        s = result["protocols"][name]
        table.add_row(name.replace("_", " "), str(s["n_classes"]), _cell(s),
                      f"{s['contexts_all_correct']}/{n_contexts}",
                      _cell(result["baselines"]["pixel_nn"][name]),
                      SKIPPED if no_cross == SKIPPED else _cell(no_cross[name]))
    console.print(table)
    d = result["distance"]
    same, different = d["same_glyph_across_contexts"], d["different_glyph_same_context"]
    console.print(f"latent distance: same glyph across contexts {same['mean']:.2f} ± {same['std']:.2f}, "
                  f"different glyphs in one context {different['mean']:.2f} ± {different['std']:.2f}, "
                  f"ratio {d['ratio']} (paper: {PAPER_SAME} vs {PAPER_DIFFERENT}, "
                  f"ratio {PAPER_DIFFERENT / PAPER_SAME:.1f})")
    if no_cross == SKIPPED:
        console.print("no-cross baseline skipped: pass oneshot.ablation_model_dir=DIR, a model trained with "
                      "train.cross_steps=0 (self-training only) on the same dataset")
