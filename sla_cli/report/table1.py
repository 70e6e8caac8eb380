"""Table 1 (MNIST classification, `sla classify`): the set's scorings and both MLPs as mean ± std over
seeds with ECE and NLL, and every scoring's paired difference to each MLP with its 95% interval.

classify's results.json holds one record per seed under ``per_seed`` (accuracies, ECE, NLL: the
cells' mean ± std come from them) and, at its top level, what is pooled over the seeds or is the
same for all: ``paired`` (set - MLP on the same test images), ``parameters``, ``inputs``,
``class_prior``, ``tuning`` (read with ``runs=True``). A run made before these keys shows them as
"not reported".
"""

from __future__ import annotations

from sla_cli import paper
from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import (
    NOT_A_NUMBER,
    NOT_REPORTED,
    cell,
    difference,
    first,
    is_number,
    records_of,
    text,
    values,
)

PAPER = {"recon": f"{100 * paper.TABLE1_ACCURACY['ae_set']:.1f}", "mlp": f"{100 * paper.TABLE1_ACCURACY['mlp']:.1f}"}
SCORINGS = {
    "recon": "reconstruction error only (the paper's test)",
    "full": "all three terms of eq. (4)",
    "calibrated": "eq. (5)'s weights fitted on the validation split",
}
MLPS = {"mlp": "MLP of the set's width", "mlp_matched": "MLP with about the set's parameter count"}


def n_seeds(c: Stage) -> int:
    found = records_of(c)
    return 0 if isinstance(found, str) else len(found)


def seeds_note(c: Stage) -> str:
    """How the accuracy cells were combined: "mean ± std over K seeds", or that one seed gives no std."""
    k = n_seeds(c)
    return f"mean ± std over {k} seeds" if k > 1 else "one seed: no std"


def accuracy(c: Stage, model: str, scoring: str | None = None) -> str:
    """Test accuracy % of a model (a set scoring or an MLP), mean ± std over seeds, with how many."""
    found = cell(c, *(("ae_set", scoring) if scoring else (model,)), "accuracy", scale=100)
    if not c.complete or found in (NOT_REPORTED, NOT_A_NUMBER):
        return found
    return f"{found} ({seeds_note(c)})"


def paired(c: Stage, scoring: str, mlp: str) -> list[str]:
    """[set - MLP in points with its 95% interval over the test images, the verdict]."""
    at = ("paired", "comparisons", f"{scoring}_vs_{mlp}")
    return difference(c, (*at, "difference"), low_high=((*at, "ci95_low"), (*at, "ci95_high")), scale=100, runs=True)


def against_mlps(c: Stage, scoring: str) -> str:
    """The set's scoring beside both MLPs: "set - MLP (…): d [low, high] points, verdict; …"."""
    parts = []
    for m, name in MLPS.items():
        d, v = paired(c, scoring, m)
        parts.append(f"set − {name} (points): {d}" + (f", {v}" if v else ""))
    return "; ".join(parts)


def _mcnemar(c: Stage, key: str) -> str:
    """Each seed's exact McNemar p, as the stage computed it."""
    found = values(c, "paired", "comparisons", key, "per_seed", runs=True)
    if isinstance(found, str):
        return found
    out = []
    for run in found:
        if not isinstance(run, list):
            return NOT_A_NUMBER
        ps = [s.get("mcnemar_p_exact") if isinstance(s, dict) else None for s in run]
        out.append(", ".join(f"{p:.2g}" if is_number(p) else NOT_A_NUMBER for p in ps))
    return "; ".join(out) or NOT_REPORTED


def _model_rows(c: Stage) -> list[list[str]]:
    rows = []
    for s, what in SCORINGS.items():
        rows.append(
            [
                f"set of 10 autoencoders, {s}",
                what,
                text(c, "inputs", "ae_set", runs=True),
                text(c, "class_prior", "use", s, runs=True),
                cell(c, "parameters", "ae_set", runs=True, digits=0),
                PAPER.get(s, "–"),
                cell(c, "ae_set", s, "accuracy", scale=100),
                cell(c, "ae_set", s, "val_accuracy", scale=100),
                "– (an error, not a probability)" if s == "recon" else cell(c, "ae_set", s, "ece", digits=4),
                "–" if s == "recon" else cell(c, "ae_set", s, "nll", digits=4),
            ]
        )
    for m, what in MLPS.items():
        rows.append(
            [
                what,
                "softmax",
                text(c, "inputs", m, runs=True),
                text(c, "class_prior", "mlp", runs=True),
                cell(c, "parameters", m, runs=True, digits=0),
                PAPER.get(m, "–"),
                cell(c, m, "accuracy", scale=100),
                cell(c, m, "val_accuracy", scale=100),
                cell(c, m, "ece", digits=4),
                cell(c, m, "nll", digits=4),
            ]
        )
    if first(c, "density_members") is not None:  # classify.density_classifier=dae|made|vae
        members = f"density models as class models ({text(c, 'density_members', 'members')})"
        rows.append(
            [
                members,
                "log p(x | class)",
                text(c, "inputs", "density_members", runs=True),
                text(c, "class_prior", "density_members", runs=True),
                NOT_REPORTED,
                "–",
                cell(c, "density_members", "accuracy", scale=100),
                cell(c, "density_members", "val_accuracy", scale=100),
                NOT_REPORTED,
                NOT_REPORTED,
            ]
        )
    return rows


def _paired_rows(c: Stage) -> list[list[str]]:
    rows = []
    for s in SCORINGS:
        for m, name in MLPS.items():
            key = f"{s}_vs_{m}"
            rows.append(
                [
                    f"set, {s}",
                    name,
                    *paired(c, s, m),
                    _mcnemar(c, key),
                    f"{cell(c, 'paired', 'comparisons', key, 'seeds_set_better_p05', digits=0, runs=True)} / "
                    f"{cell(c, 'paired', 'comparisons', key, 'seeds_mlp_better_p05', digits=0, runs=True)}",
                ]
            )
    return rows


def _training_note(c: Stage) -> str:
    per_class = first(c, "train_per_class", runs=True)
    data = (
        f"Training images: {text(c, 'n_train', runs=True)}"
        + (f" ({escape(per_class)} per class, a seeded draw per seed)" if per_class is not None else "")
        + f"; validation: {text(c, 'n_val', runs=True)}; test: {text(c, 'n_test', runs=True)}. "
        f"Loss of the class autoencoders: {text(c, 'training_loss', runs=True)}."
    )
    winners = first(c, "tuning", "winner_on_validation", runs=True)
    if isinstance(winners, list):
        data += (
            " Best on the validation split (the recipe grid; test touched once), per seed: "
            + ", ".join(escape(w) for w in winners)
            + "."
        )
    return data


def section(c: Stage) -> list[str]:
    out = ["### Table 1: the set as a Bayes classifier against two MLPs (`sla classify`)", ""]
    if not c.complete:
        return out + [f"*classify/: {c.status}* ({escape(c.reason)})", ""]
    out += [
        f"Test and validation accuracy %: {seeds_note(c)} (the seeds are listed under *The runs*). ECE: expected "
        "calibration error of the top-class probability; NLL: mean −log p(true class), nats. The paper's column "
        "is its Table 1 (hidden 2048).",
        "",
        *table(
            [
                "model",
                "scoring",
                "inputs",
                "class prior",
                "parameters",
                "paper %",
                "test accuracy %",
                "validation accuracy %",
                "ECE",
                "test NLL",
            ],
            _model_rows(c),
        ),
        "",
        _training_note(c),
        "",
        "Each scoring of the set against each MLP on the same test images: set − MLP in accuracy points, the 95% "
        "interval a paired bootstrap over the test images (pooled over seeds: test-set noise, not seed noise), "
        "McNemar's exact test per seed. Where the MLP wins the verdict says **ours worse**.",
        "",
        *table(
            [
                "set",
                "against",
                "set − MLP, points [95% interval]",
                "verdict",
                "McNemar p per seed",
                "seeds set better / MLP better (p < 0.05)",
            ],
            _paired_rows(c),
        ),
        "",
    ]
    return out
