"""One-shot recognition (`sla eval oneshot`, paper section 10): every protocol, ours beside every
baseline (the oracle pixel NN, pixel NN on the frames, no cross-training, one shared autoencoder, a
contrastive encoder), each accuracy with its 95% interval and the paired difference ours − baseline.

oneshot.json: ``protocols.<p>`` (ours) and ``baselines.<m>.<p>`` (or ``baselines.<m> = "skipped"``)
are summaries {mean_accuracy, min_accuracy, contexts_all_correct, other_contexts, ci95, n_probes};
``ours_minus.<m>.<p>`` = {difference, ci95}. Accuracy is counted over the C − 1 contexts other than
the source (in the source the paper's probe is the prototype itself). A run made before these keys
shows them as "not reported".
"""

from __future__ import annotations

from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import (
    NOT_REPORTED,
    SKIPPED,
    derived,
    difference,
    estimate,
    first,
    is_number,
    lookup,
    records_of,
    text,
    values,
)

PROTOCOLS = {
    "paper": "two-way, the check vs the plus (other glyph sets: their first two classes), the prototype's own "
    "drawing probed (the paper's)",
    "same_instance": "N-way, the prototype's own drawing probed",
    "new_instances": "N-way, other drawings of each class probed (honest one-shot)",
}
ORACLE = "oracle_pixel_nn"
BASELINES = {
    ORACLE: "oracle pixel NN: the flat 28x28 glyphs, the view given for free (the ceiling)",
    "pixel_nn": "pixel NN on the rendered frames",
    "no_cross": "the same set trained without cross steps",
    "shared_ae": "one shared autoencoder for all contexts",
    "contrastive": "contrastive encoder (InfoNCE on the cross-context pairs)",
}


def all_correct(record: dict) -> float | None:
    """Contexts in which the two-way protocol was right for every probe."""
    p = lookup(record, "protocols", "paper")
    if not isinstance(p, dict):
        return None
    n = p.get("contexts_all_correct")
    if is_number(n):
        return n
    acc = p.get("per_context_accuracy")
    return sum(a >= 1.0 for a in acc) if isinstance(acc, list) and all(is_number(a) for a in acc) else None


def other_contexts(stage: Stage, *summary) -> str:
    """C − 1, the contexts a probe is counted in (older runs: the length of the per-context list)."""
    sizes = set()
    for r in records_of(stage) if stage.complete else []:
        p = lookup(r, *summary)
        other = p.get("other_contexts") if isinstance(p, dict) else None
        listed = p.get("per_context_accuracy") if isinstance(p, dict) else None
        sizes.add(other if is_number(other) else len(listed) if isinstance(listed, list) else -1)
    return str(sizes.pop()) if len(sizes) == 1 and -1 not in sizes else "?"


def contexts_right(stage: Stage, *summary) -> str:
    """'k of C − 1' contexts where every probe was right (a mean over sources or seeds keeps its fraction)."""
    found = [lookup(r, *summary, "contexts_all_correct") for r in records_of(stage)] if stage.complete else []
    whole = len(found) == 1 and is_number(found[0]) and float(found[0]).is_integer()
    n = derived(stage, lambda r: lookup(r, *summary, "contexts_all_correct"), digits=0 if whole else 2)
    return f"{n} of {other_contexts(stage, *summary)}" if stage.complete and n != NOT_REPORTED else n


def skipped(o: Stage, method: str) -> bool:
    found = values(o, "baselines", method)
    return isinstance(found, list) and all(v == SKIPPED for v in found)


def summary_path(method: str, protocol: str) -> tuple:
    return ("protocols", protocol) if method == "ours" else ("baselines", method, protocol)


def accuracy(o: Stage, method: str, protocol: str, unit: str = "") -> str:
    """Mean accuracy % over the (source, other context) pairs with its 95% interval."""
    if method != "ours" and skipped(o, method):
        return f"{SKIPPED} (not given to this run)"
    path = summary_path(method, protocol)
    return estimate(o, (*path, "mean_accuracy"), (*path, "ci95"), scale=100, digits=1, unit=unit)


def ours_minus(o: Stage, method: str, protocol: str) -> list[str]:
    """[ours − method in accuracy points with its paired 95% interval, the verdict]."""
    if skipped(o, method):
        return [SKIPPED, ""]
    return difference(
        o, ("ours_minus", method, protocol, "difference"), ("ours_minus", method, protocol, "ci95"), scale=100, digits=1
    )


def strongest_baseline(o: Stage, protocol: str) -> str | None:
    """The non-oracle baseline with the highest mean accuracy in the first run (None if none measured)."""
    best, best_acc = None, -1.0
    for m in BASELINES:
        acc = first(o, *summary_path(m, protocol), "mean_accuracy")
        if m != ORACLE and is_number(acc) and acc > best_acc:
            best, best_acc = m, acc
    return best


def beside_controls(o: Stage, protocol: str) -> str:
    """Ours against the oracle and the strongest other baseline: accuracy, ours − it, verdict."""
    parts = []
    for m in dict.fromkeys([ORACLE, strongest_baseline(o, protocol)]):
        if m is None:
            continue
        d, v = ours_minus(o, m, protocol)
        parts.append(
            f"{BASELINES[m].split(':')[0]} {accuracy(o, m, protocol, unit='%')}; ours − it (points) {d}"
            + (f", {v}" if v else "")
        )
    return "; ".join(parts) or NOT_REPORTED


def _listing(value) -> str:
    return escape(", ".join(map(str, value))) if isinstance(value, list) else NOT_REPORTED


def _glyphs(o: Stage) -> str:
    source = first(o, "glyphs", "mode") or first(o, "glyphs", "source")
    seeds = first(o, "glyphs", "seeds")
    draws = (
        f"{len(seeds)} glyph draw(s), seeds {_listing(seeds)}"
        if isinstance(seeds, list)
        else f"glyph draws: {NOT_REPORTED}"
    )
    return (
        f"Glyphs: {escape(source) if source is not None else NOT_REPORTED} (classes of the first draw: "
        f"{_listing(first(o, 'glyphs', 'classes'))}); {draws}. Intervals: {text(o, 'intervals', 'method')}."
    )


def _probes(o: Stage, protocol: str) -> str:
    n = first(o, "protocols", protocol, "n_probes")
    k = first(o, "protocols", protocol, "n_classes")
    return f"{escape(k) if k is not None else '?'} classes, {escape(n) if n is not None else '?'} probes"


def rows(o: Stage, protocol: str) -> list[list[str]]:
    """One row per method for one protocol: ours first, then every baseline (skipped ones said so)."""
    path = summary_path("ours", protocol)
    out = [
        [
            "**shared latent space (ours)**",
            accuracy(o, "ours", protocol),
            estimate(o, (*path, "min_accuracy"), scale=100, digits=1),
            contexts_right(o, *path),
            "–",
            "",
        ]
    ]
    for m, name in BASELINES.items():
        if skipped(o, m):
            out.append([name, accuracy(o, m, protocol), SKIPPED, SKIPPED, SKIPPED, ""])
            continue
        bpath = summary_path(m, protocol)
        out.append(
            [
                name,
                accuracy(o, m, protocol),
                estimate(o, (*bpath, "min_accuracy"), scale=100, digits=1),
                contexts_right(o, *bpath),
                *ours_minus(o, m, protocol),
            ]
        )
    return out


def section(o: Stage) -> list[str]:
    out = ["### One-shot in N ways, against every baseline (`sla eval oneshot`)", ""]
    if not o.complete:
        return out + [f"*oneshot/: {o.status}* ({escape(o.reason)})", ""]
    out += [
        "Prototypes from one source context; each probe classified by its nearest prototype in each of the C − 1 "
        "other contexts. Accuracy %: mean over the (source, other context) pairs [95% interval]; worst: the worst "
        "context; ours − method: paired on the same probes, accuracy points [95% interval]. Where a baseline "
        "beats ours the verdict says **ours worse**. " + _glyphs(o),
        "",
    ]
    for p, what in PROTOCOLS.items():
        out += [
            f"**{what}** ({_probes(o, p)}):",
            "",
            *table(
                [
                    "method",
                    "accuracy % [95% interval]",
                    "worst context %",
                    "contexts with every probe right (of C − 1)",
                    "ours − method, points [95% interval]",
                    "verdict",
                ],
                rows(o, p),
            ),
            "",
        ]
    return out
