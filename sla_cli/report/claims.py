"""The paper's numbers and claims, each beside our measure of it (the report's first table).

The paper's values are quoted from its text (Table 1, section 10, section 11); ours come from
the run folders' JSON only.
"""

from __future__ import annotations

import statistics

from sla_cli.report.collect import Stage
from sla_cli.report.markdown import code, table
from sla_cli.report.numbers import NOT_REPORTED, cell, derived, is_number, lookup, ratio, values

# Table 1 ("Autoencoders' accuracy: 98.6% Classification NN: 98.4%") and section 10's distances.
PAPER_AE_SET, PAPER_MLP = 98.6, 98.4
PAPER_SAME, PAPER_DIFFERENT = 0.98, 6.21
PAPER_CONTEXTS = 100

# Section 11's claims, quoted word for word.
QUOTE_MAPS = "Maps are almost identical despite the different textures on cube edges."
QUOTE_SWEEP = "After training this component could be varied from 0 to 1 and decode the likelihood contexts vector"
QUOTE_BACK = (
    '"Changing the component of latent code on the second level we receive the following reconstructed '
    'images" and "we can generate (imagine) a new cube that was not presented in training data with a V sign on edges"'
)


def _all_correct(record: dict) -> float | None:
    """Contexts in which the two-way protocol was right for every probe."""
    p = lookup(record, "protocols", "paper")
    if not isinstance(p, dict):
        return None
    n = p.get("contexts_all_correct")
    if is_number(n):
        return n
    acc = p.get("per_context_accuracy")
    return sum(a >= 1.0 for a in acc) if isinstance(acc, list) and all(is_number(a) for a in acc) else None


def _n_contexts(stage: Stage) -> str:
    if not stage.complete:
        return "?"
    paper = [lookup(r, "protocols", "paper") for r in stage.records()]  # other_contexts: C - 1, not the source
    sizes = set()
    for p in paper:
        listed = p.get("per_context_accuracy") if isinstance(p, dict) else None
        other = p.get("other_contexts") if isinstance(p, dict) else None
        sizes.add(other if isinstance(other, int) and not isinstance(other, bool)
                  else len(listed) if isinstance(listed, list) else -1)
    return str(sizes.pop()) if len(sizes) == 1 and -1 not in sizes else "?"


def _one_shot_cell(oneshot: Stage) -> str:
    # one run's count is whole; a mean over seeds or (source_context=all) over source contexts is not
    records = oneshot.records() if oneshot.complete else []
    whole = len(records) == 1 and float(_all_correct(records[0]) or 0).is_integer()
    n = derived(oneshot, _all_correct, digits=0 if whole else 2)
    if not oneshot.complete or n == NOT_REPORTED:
        return n
    mean = cell(oneshot, "protocols", "paper", "mean_accuracy", scale=100, digits=1, unit="%")
    return f"{n} of {_n_contexts(oneshot)} contexts all correct (mean accuracy {mean})"


def _with_spread(stage: Stage, *path) -> str:
    """The distance's mean (over seeds: mean ± std) and, beside it, its spread within a run
    (the std over glyph pairs, averaged over seeds)."""
    mean = cell(stage, *path, "mean")
    spread = values(stage, *path, "std")
    if isinstance(spread, str) or not all(is_number(v) for v in spread):
        return mean
    return f"{mean} (spread {statistics.fmean(spread):.2f})"


def _measured(stage: Stage, text: str) -> str:
    """A sentence of several numbers, or the stage's state alone when it gave none."""
    return text if stage.complete else stage.status


def rows(stages: dict[str, Stage]) -> list[list[str]]:
    c, m, o, k = stages["classify"], stages["model"], stages["oneshot"], stages["concept"]
    digits_ratio = derived(m, lambda r: ratio(r, ("latent_distance_different_digit",), ("latent_distance_same_digit",)))
    return [
        [
            "Table 1: set of 10 class autoencoders, MNIST test accuracy % (reconstruction error, the paper's scoring)",
            f"{PAPER_AE_SET}",
            cell(c, "ae_set", "recon", "accuracy", scale=100),
            f"classify/results.json {code('ae_set.recon.accuracy')}",
        ],
        [
            "Table 1: fully connected classifier, MNIST test accuracy %",
            f"{PAPER_MLP}",
            cell(c, "mlp", "accuracy", scale=100),
            f"classify/results.json {code('mlp.accuracy')}",
        ],
        [
            "Section 10: one-shot, the check and the plus shown in one context, told apart in every context",
            f"all {PAPER_CONTEXTS} of {PAPER_CONTEXTS}",
            _one_shot_cell(o),
            f"oneshot/oneshot.json {code('protocols.paper')}",
        ],
        [
            "Section 10: latent distance, same glyph in the source and another context",
            f"{PAPER_SAME}",
            _with_spread(o, "distance", "same_glyph_across_contexts"),
            f"oneshot/oneshot.json {code('distance.same_glyph_across_contexts')}",
        ],
        [
            "Section 10: latent distance, different glyphs in the same context",
            f"{PAPER_DIFFERENT}",
            _with_spread(o, "distance", "different_glyph_same_context"),
            f"oneshot/oneshot.json {code('distance.different_glyph_same_context')}",
        ],
        [
            "Section 10: ratio different / same",
            f"{PAPER_DIFFERENT / PAPER_SAME:.2f}",
            cell(o, "distance", "ratio"),
            f"oneshot/oneshot.json {code('distance.ratio')}",
        ],
        [
            # Not the paper's measurement (one pair of unseen glyphs; latent scales are arbitrary),
            # so only its ratio stands here, and no paper number beside it.
            "Ratio different / same on MNIST test digits instead of glyphs (mean over all context pairs; "
            "not the paper's measurement)",
            "not measured",
            _measured(m, f"{digits_ratio}"),
            f"model/metrics.json {code('latent_distance_*')}",
        ],
        [
            f'Section 11, figure 12: "{QUOTE_MAPS}"',
            "qualitative",
            _measured(
                k,
                f"map cosine, same angle, digit 5 vs 9: {cell(k, 'map_cosine_same_angle_different_digit', digits=3)}; "
                f"maps 20+ degrees apart: {cell(k, 'map_cosine_different_angle', digits=3)}",
            ),
            f"concept/concept.json {code('map_cosine_*')}",
        ],
        [
            f'Section 11, figure 14 (a turning cube): "{QUOTE_SWEEP}"',
            "qualitative",
            _measured(
                k,
                f"Spearman(latent, true angle) {cell(k, 'spearman_latent_angle', digits=3)}; "
                f"angle read from the latent: mean error {cell(k, 'angle_mae_deg', digits=1)} degrees",
            ),
            f"concept/concept.json {code('spearman_latent_angle')}, {code('angle_mae_deg')}",
        ],
        [
            f"Section 11, figures 15, 16: {QUOTE_BACK}",
            "qualitative",
            _measured(
                k,
                f"back-projection MSE {cell(k, 'backprojection', 'mse', digits=4)} vs "
                f"{cell(k, 'backprojection', 'baseline_mse', digits=4)} for the mean training cube image",
            ),
            f"concept/concept.json {code('backprojection')}",
        ],
    ]


def section(stages: dict[str, Stage]) -> list[str]:
    return [
        "## The paper vs ours",
        "",
        "Every number the paper states, beside ours. A stage that did not complete shows its state, never a number. "
        "A cell with ± is the mean ± sample std over that stage's seeds (listed under *The runs*).",
        "",
        *table(["claim", "paper", "ours", "from"], rows(stages)),
        "",
    ]
