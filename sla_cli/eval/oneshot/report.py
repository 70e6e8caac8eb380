"""oneshot.json and the closing rich table.

oneshot.json: ``protocols`` (ours), ``baselines`` (every other method, or "skipped"), ``ours_minus``
(paired differences to each baseline), ``distance``, ``glyphs`` (the draws), ``intervals`` (how
the 95% intervals were made) and ``paper`` (its two-way count and its distance ratio only: its raw
distances are in its own latent units and compare with nothing of ours).
"""

from __future__ import annotations

from rich.table import Table

from sla_cli import stats
from sla_cli.eval.oneshot.figures import PAPER_RATIO
from sla_cli.eval.oneshot.measure import ORACLE, OURS, PIXELS
from sla_cli.eval.oneshot.protocols import PROTOCOLS
from sla_cli.runtime import console

SKIPPED = "skipped"
NO_CROSS = "no_cross"
EXPECTED_BASELINES = ("shared_ae", "contrastive")  # the trained baselines: "skipped" until given
LABELS = {
    OURS: "shared latent (ours)",
    ORACLE: "oracle pixel NN (flat glyphs)",
    PIXELS: "pixel NN (frames)",
    NO_CROSS: "no cross-training",
    "shared_ae": "one shared autoencoder",
    "contrastive": "contrastive encoder",
}
HOW_TO = {
    NO_CROSS: "oneshot.ablation_model_dir=DIR (a model trained with train.cross_steps=0 on the same dataset)",
    "shared_ae": "oneshot.baseline_model_dirs.shared_ae=DIR",
    "contrastive": "oneshot.baseline_model_dirs.contrastive=DIR",
}


def oneshot_json(tally, methods: list[str], draws, seed: int) -> dict:
    """``methods``: every method measured besides ours (the oracle and pixel NN always)."""
    baselines = {m: tally.summaries(m, seed) for m in methods}
    for m in (NO_CROSS, *EXPECTED_BASELINES):
        baselines.setdefault(m, SKIPPED)
    first = draws[0]
    return {
        "protocols": tally.summaries(OURS, seed),
        "baselines": baselines,
        "ours_minus": {m: tally.ours_minus(m, seed) for m in methods},
        "distance": tally.distance(),
        "glyphs": {
            "source": first.source,
            "classes": list(first.names),
            "seeds": [d.details.get("seed") for d in draws],
            "draws": [{"classes": list(d.names), **d.details} for d in draws],
        },
        "intervals": {
            "level": stats.LEVEL,
            "resamples": stats.N_BOOT,
            "method": "percentile bootstrap over probes" + (" within resampled glyph draws" if len(draws) > 1 else ""),
        },
        "paper": {"two_way_contexts": 100, "distance_ratio": PAPER_RATIO},
    }


def _cell(summary) -> str:
    if summary == SKIPPED:
        return SKIPPED
    low, high = summary["ci95"]
    return f"{100 * summary['mean_accuracy']:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def print_table(result: dict, out_dir, source_label: str) -> None:
    ours = result["protocols"]
    k = {p: ours[p]["n_classes"] for p in PROTOCOLS}
    draws = " and glyph draws" if len(result["glyphs"]["seeds"]) > 1 else ""
    table = Table(
        title=f"sla eval oneshot: {out_dir}",
        caption=f"prototypes from context {source_label}; mean "
        f"accuracy % over the other contexts [95% interval over probes{draws}]",
    )
    table.add_column("method")
    for p in PROTOCOLS:
        table.add_column(f"{p.replace('_', ' ')} ({k[p]}-way)", justify="right")
    methods = {OURS: ours, **result["baselines"]}
    for name, summaries in methods.items():
        table.add_row(
            LABELS.get(name, name), *(_cell(summaries if summaries == SKIPPED else summaries[p]) for p in PROTOCOLS)
        )
    console.print(table)
    paper = ours["paper"]
    console.print(
        f"paper's two-way test: every probe right in {paper['contexts_all_correct']} of the "
        f"{paper['other_contexts']} other contexts"
    )
    d = result["distance"]
    same, different = d["same_glyph_across_contexts"], d["different_glyph_same_context"]
    console.print(
        f"latent distance: same glyph across contexts {same['mean']:.2f} ± {same['std']:.2f}, "
        f"different glyphs in one context {different['mean']:.2f} ± {different['std']:.2f}: "
        f"ratio {d['ratio']} (the paper's ratio {PAPER_RATIO}; its distances are in its own latent units)"
    )
    for name in (NO_CROSS, *EXPECTED_BASELINES):
        if result["baselines"][name] == SKIPPED:
            console.print(f"{LABELS[name]} skipped: pass {HOW_TO[name]}")
