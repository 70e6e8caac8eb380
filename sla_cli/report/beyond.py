"""What we measure that the paper does not: the other scorings, anomaly AUROC, attacks, the
N-way one-shot against baselines, the concept's angle error, the first level's transfer error."""

from __future__ import annotations

from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import SKIPPED, cell, derived, keys, ratio, text, values

SCORINGS = {
    "recon": "reconstruction error only (the paper's test)",
    "full": "all three terms of eq. (4)",
    "calibrated": "eq. (5)'s weights fitted on the validation split",
}
PROTOCOLS = {
    "paper": "two-way, check vs plus (the paper's)",
    "same_instance": "N-way, the prototype's own instance",
    "new_instances": "N-way, other instances of each class (honest one-shot)",
}


def _absent(stage: Stage) -> list[str]:
    return [f"*{stage.spec.folder}/: {stage.status}* ({escape(stage.reason)})", ""]


def classify(c: Stage) -> list[str]:
    out = ["### Scorings of the set, anomalies, attacks (`sla classify`)", ""]
    if not c.complete:
        return out + _absent(c)
    rows = [
        [
            f"set: {s}",
            text,
            cell(c, "ae_set", s, "accuracy", scale=100),
            cell(c, "ae_set", s, "val_accuracy", scale=100),
        ]
        for s, text in SCORINGS.items()
    ]
    rows.append(["MLP", "softmax", cell(c, "mlp", "accuracy", scale=100), cell(c, "mlp", "val_accuracy", scale=100)])
    out += table(["model", "scoring", "test accuracy %", "validation accuracy %"], rows) + [""]
    kinds = keys(c, "ood", "mlp", "max_softmax")  # classify's results.json: ood.mlp.<detector>.<kind>
    if kinds:
        out += ["Anomaly detection, AUROC of MNIST test digits against each kind of non-digit:", ""]
        rows = [
            [f"set, best class score ({s})", *(cell(c, "ood", "ae_set", s, k, digits=3) for k in kinds)]
            for s in SCORINGS
        ]
        rows += [[f"MLP, {escape(d.replace('_', ' '))}", *(cell(c, "ood", "mlp", d, k, digits=3) for k in kinds)]
                 for d in keys(c, "ood", "mlp")]
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


def oneshot(o: Stage) -> list[str]:
    out = ["### One-shot in N ways, against baselines (`sla eval oneshot`)", ""]
    if not o.complete:
        return out + _absent(o)
    rows = []
    for p, description in PROTOCOLS.items():
        rows.append(
            [
                description,
                cell(o, "protocols", p, "n_classes", digits=0),
                cell(o, "protocols", p, "mean_accuracy", scale=100, digits=1),
                cell(o, "protocols", p, "min_accuracy", scale=100, digits=1),
                cell(o, "baselines", "pixel_nn", p, "mean_accuracy", scale=100, digits=1),
                _no_cross(o, p),
            ]
        )
    out += [
        "Mean (and worst) accuracy % over contexts; the same protocols for nearest prototype in pixel space and "
        "for the same architecture trained without cross steps:",
        "",
    ]
    out += table(["protocol", "classes", "ours mean", "ours worst context", "pixel NN", "self-training only"], rows)
    return out + [""]


def _no_cross(o: Stage, protocol: str) -> str:
    found = values(o, "baselines", "no_cross")
    if isinstance(found, list) and all(v == SKIPPED for v in found):
        return SKIPPED  # the stage was given no self-training-only model
    return cell(o, "baselines", "no_cross", protocol, "mean_accuracy", scale=100, digits=1)


def concept(k: Stage) -> list[str]:
    out = ["### The concept's measures (`sla eval concept`)", ""]
    if not k.complete:
        return out + _absent(k)
    rows = [
        [
            "angle read from the second-level latent: mean absolute error, degrees (held-out cubes)",
            cell(k, "angle_mae_deg", digits=2),
        ],
        ["Spearman correlation of the latent with the true angle", cell(k, "spearman_latent_angle", digits=3)],
        [
            "back-projection MSE / the mean training cube's MSE",
            derived(k, lambda r: ratio(r, ("backprojection", "mse"), ("backprojection", "baseline_mse")), digits=3),
        ],
        ["normalisation of the likelihood maps", text(k, "normalisation")],
    ]
    return out + table(["measure", "ours"], rows) + [""]


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


def section(stages: dict[str, Stage]) -> list[str]:
    return [
        "## Beyond the paper",
        "",
        *model(stages["model"]),
        *classify(stages["classify"]),
        *oneshot(stages["oneshot"]),
        *concept(stages["concept"]),
    ]
