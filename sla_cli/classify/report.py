"""Seeds combined (mean and std at every number), table.md and the final rich table."""

from __future__ import annotations

import statistics

from rich.table import Table

from sla_cli.runtime import console

PAPER = {"ae_set": 0.986, "mlp": 0.984}


def combine(trees: list, stat: str):
    """Walk per-seed trees of equal shape: numbers -> mean or std, flags -> any, the rest -> first."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: combine([t[k] for t in trees], stat) for k in first}
    if isinstance(first, bool):
        return any(trees)
    if isinstance(first, int) and all(t == first for t in trees):
        return first if stat == "mean" else 0
    if isinstance(first, (int, float)):
        if stat == "mean":
            return statistics.fmean(trees)
        return statistics.stdev(trees) if len(trees) > 1 else 0.0  # sample std (n-1)
    return first


def _pm(mean: dict, std: dict, *path: str, pct: bool = True) -> str:
    m, s = mean, std
    for p in path:
        m, s = m[p], s[p]
    return f"{100 * m:.2f} ± {100 * s:.2f}" if pct else f"{m:.3f} ± {s:.3f}"


SCORING_NOTES = {
    "recon": "-‖x - f(z*)‖² (the paper's)",
    "full": "eq. (4), per-class sigma",
    "calibrated": "eq. (5) weights fitted on val",
    "learned_sigma": "eq. (4), learned per-pixel sigma",
}
MLP_DETECTOR_NAMES = {"max_softmax": "max softmax", "max_logit": "max logit", "energy": "energy (logsumexp)"}


def _row(*cells: str) -> str:
    """One markdown table row."""
    return "| " + " | ".join(cells) + " |"


def table_md(results: dict) -> str:
    mean, std, n = results, results["std"], len(results["seeds"])
    scorings = list(results["ae_set"])
    lines = [
        f"# sla classify: paper vs ours (mean ± std over {n} seed(s), device {results['device']}, "
        f"preset {results['preset']})",
        "",
        f"Class autoencoders trained with loss **{results['training_loss']}**; eq. (4)'s per-class sigma estimated "
        f"on the {results['sigma_estimated_on']} split, its latent Gaussian on the "
        f"{results['latent_gaussian_fitted_on']} split "
        "(mean sigma by split: "
        + ", ".join(f"{k} {v:.4f}" for k, v in results["ae_set"]["full"]["sigma_mean_by_split"].items())
        + ").",
        "",
        "| model | scoring | paper test acc. % | ours test acc. % | ours val acc. % |",
        "|---|---|---|---|---|",
    ]
    for s in scorings:
        paper = f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-"
        lines.append(_row("set of 10 autoencoders", f"{s}: {SCORING_NOTES.get(s, s)}", paper,
                          _pm(mean, std, "ae_set", s, "accuracy"), _pm(mean, std, "ae_set", s, "val_accuracy")))
    lines.append(_row(f"MLP 784-{results['arch']['mlp_hidden']}-10", "softmax", f"{100 * PAPER['mlp']:.1f}",
                      _pm(mean, std, "mlp", "accuracy"), _pm(mean, std, "mlp", "val_accuracy")))
    kinds = list(results["ood"]["mlp"]["max_softmax"])
    lines += [
        "",
        f"Test images: {results['n_test']}; training images: {results['n_train']}; "
        f"validation (calibration) images: {results['n_val']}.",
        f"Train seconds per seed (mean): set {mean['train_seconds']['ae_set']:.1f}, "
        f"MLP {mean['train_seconds']['mlp']:.1f}.",
        "",
        "## Anomaly detection: AUROC, MNIST test (positive) vs each kind",
        "",
        "| detector | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for s in scorings:
        lines.append(
            f"| set best class score ({s}) | "
            + " | ".join(_pm(mean, std, "ood", "ae_set", s, k, pct=False) for k in kinds)
            + " |"
        )
    for d, label in MLP_DETECTOR_NAMES.items():
        lines.append(
            f"| MLP {label} | " + " | ".join(_pm(mean, std, "ood", "mlp", d, k, pct=False) for k in kinds) + " |"
        )
    lines += _attack_lines(results)
    return "\n".join(lines)


def _attack_lines(results: dict) -> list[str]:
    adv, std = results["adversarial"], results["std"]
    eps = [str(e) for e in adv["eps"]]
    lines = [
        "",
        f"## Adversarial accuracy % ({adv['n']} test images, white-box L-inf, margin loss; PGD {adv['pgd_steps']} "
        f"steps x {adv['restarts']} random restarts, best iterate per image)",
        "",
        "| target | clean | "
        + " | ".join(f"FGSM {e}" for e in eps)
        + " | "
        + " | ".join(f"PGD {e}" for e in eps)
        + " | "
        + " | ".join(f"transfer {e}" for e in eps)
        + " | "
        + " | ".join(f"worst case {e}" for e in eps)
        + " | PGD at eps 1 | zero-grad share | gradient hidden? |",
        "|---|" + "---|" * (4 * len(eps) + 4),
    ]
    for key in [k for k in adv if k == "mlp" or k.startswith("ae_set_")]:
        r, rs = adv[key], std["adversarial"][key]
        cells = [f"{100 * r['clean']:.1f}"] + [f"{100 * r['fgsm'][e]:.1f} ± {100 * rs['fgsm'][e]:.1f}" for e in eps]
        cells += [f"{100 * r['pgd'][e]:.1f} ± {100 * rs['pgd'][e]:.1f}" for e in eps]
        cells += [f"{100 * r['transfer_from_mlp_pgd'][e]:.1f}" if "transfer_from_mlp_pgd" in r else "-" for e in eps]
        cells += [f"{100 * r['worst_case'][e]:.1f} ± {100 * rs['worst_case'][e]:.1f}" for e in eps]
        cells += [
            f"{100 * r['accuracy_at_eps_1']:.1f}",
            f"{r['gradient']['zero_gradient_fraction']:.3f}",
            ("yes" if r["gradient_masking_suspected"] else "no") if "gradient_masking_suspected" in r else "-",
        ]
        lines.append(f"| {key.replace('ae_set_', 'set/')} | " + " | ".join(cells) + " |")
    sanity = adv["sanity"]

    def verdict(failed):
        return "**FAILED**" if failed else "passed"

    lines += [
        "",
        "PGD = images classified correctly under every PGD restart and under FGSM. Worst case = correct under "
        "every attack tried (FGSM, PGD, and for the set also the transfer attack): the robust accuracy to quote.",
        "Transfer = accuracy on the PGD examples crafted against the MLP (a black-box check: a white-box "
        "accuracy far above it would mean the scoring hides its gradient rather than resists).",
        "",
        "Sanity checks: accuracy at eps = 1 at most chance "
        f"({100 * sanity['chance']:.0f}%): {verdict(sanity['above_chance_at_eps_1'])}; PGD alone never weaker than "
        f"FGSM at any eps: {verdict(sanity['pgd_weaker_than_fgsm'])}."
        + (f" Failures: {'; '.join(sanity['failures'])}." if sanity["failures"] else ""),
        "",
    ]
    return lines


def print_table(results: dict) -> None:
    mean, std = results, results["std"]
    t = Table(
        title=f"sla classify ({len(results['seeds'])} seed(s), {results['device']}, loss {results['training_loss']})"
    )
    for col in (
        "model",
        "scoring",
        "paper %",
        "ours test %",
        "robust eps=0.1 %",
        "AUROC " + "/".join(results["ood"]["mlp"]["max_softmax"]),
    ):
        t.add_column(col)
    adv = results["adversarial"]

    def pgd(key):
        return f"{100 * adv[key]['worst_case']['0.1']:.1f}" if key in adv and "0.1" in adv[key]["pgd"] else "-"

    def au(d):
        return " / ".join(f"{v:.2f}" for v in d.values())

    for s in results["ae_set"]:
        t.add_row(
            "AE set",
            s,
            f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-",
            _pm(mean, std, "ae_set", s, "accuracy"),
            pgd(f"ae_set_{s}"),
            au(results["ood"]["ae_set"][s]),
        )
    t.add_row(
        "MLP",
        "softmax",
        f"{100 * PAPER['mlp']:.1f}",
        _pm(mean, std, "mlp", "accuracy"),
        pgd("mlp"),
        au(results["ood"]["mlp"]["max_softmax"]),
    )
    for d in ("max_logit", "energy"):
        t.add_row("MLP", f"({MLP_DETECTOR_NAMES[d]}: AUROC only)", "", "", "", au(results["ood"]["mlp"][d]))
    console.print(t)
