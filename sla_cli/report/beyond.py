"""What we measure that the paper does not: the first level's transfer error, Table 1 with seeds and
paired tests (``table1``), anomaly AUROC, attacks, one-shot against every baseline (``oneshot``), the
concept's splits, readers, texture invariance and back-projection (``concept``), density models
(``density``)."""

from __future__ import annotations

from sla_cli.report import concept, density, oneshot, table1
from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import cell, derived, keys, ratio
from sla_cli.report.table1 import SCORINGS


def _absent(stage: Stage) -> list[str]:
    return [f"*{stage.spec.folder}/: {stage.status}* ({escape(stage.reason)})", ""]


def robustness(c: Stage) -> list[str]:
    out = ["### Anomalies and attacks (`sla classify`)", ""]
    if not c.complete:
        return out + _absent(c)
    kinds = keys(c, "ood", "mlp", "max_softmax")  # classify's results.json: ood.mlp.<detector>.<kind>
    if kinds:
        out += ["Anomaly detection, AUROC of MNIST test digits against each kind of non-digit:", ""]
        rows = [
            [f"set, best class score ({s})", *(cell(c, "ood", "ae_set", s, k, digits=3) for k in kinds)]
            for s in SCORINGS
        ]
        rows += [
            [f"MLP, {escape(d.replace('_', ' '))}", *(cell(c, "ood", "mlp", d, k, digits=3) for k in kinds)]
            for d in keys(c, "ood", "mlp")
        ]
        out += table(["detector", *map(escape, kinds)], rows) + [""]
    targets = [t for t in keys(c, "adversarial") if t == "mlp" or t.startswith("ae_set_")]
    eps = keys(c, "adversarial", "mlp", "worst_case")
    if targets and eps:
        out += [
            "Adversarial accuracy % (white-box L-inf; worst case = correct under every attack tried, "
            "the number to quote):",
            "",
        ]
        rows = [
            [
                escape(t.replace("ae_set_", "set, scoring ")),
                cell(c, "adversarial", t, "clean", scale=100, digits=1),
                *(cell(c, "adversarial", t, "pgd", e, scale=100, digits=1) for e in eps),
                *(cell(c, "adversarial", t, "worst_case", e, scale=100, digits=1) for e in eps),
            ]
            for t in targets
        ]
        out += table(
            ["target", "clean", *(f"PGD eps {escape(e)}" for e in eps), *(f"worst case eps {escape(e)}" for e in eps)],
            rows,
        ) + [""]
    return out


def model(m: Stage) -> list[str]:
    out = ["### The shared latent space (`sla train`)", ""]
    if not m.complete:
        return out + _absent(m)
    rows = [
        ["masked MSE, self (encode and decode in one context)", cell(m, "test_self_mse", digits=4)],
        ["masked MSE, cross (encode in one context, decode in another)", cell(m, "test_cross_mse", digits=4)],
        ["floor: each context's mean image", cell(m, "mean_image_mse", digits=4)],
        ["cross MSE / floor", derived(m, lambda r: ratio(r, ("test_cross_mse",), ("mean_image_mse",)), digits=3)],
        ["training steps", cell(m, "steps", digits=0)],
    ]
    return out + table(["measure (held-out test digits)", "ours"], rows) + [""]


def section(stages: dict[str, Stage], density_stages: dict[str, Stage] | None = None) -> list[str]:
    """``density_stages``: the density run(s) under the root (``density.collect``), shown when there are any."""
    return [
        "## Beyond the paper",
        "",
        *model(stages["model"]),
        *table1.section(stages["classify"]),
        *robustness(stages["classify"]),
        *oneshot.section(stages["oneshot"]),
        *concept.section(stages["concept"]),
        *density.section(density_stages or {}),
    ]
