"""table.md's sections on anomaly detection and adversarial attacks (mean ± std over seeds)."""

from __future__ import annotations

from sla_cli.classify.report_format import MLP_DETECTOR_NAMES, at, pm, row


def anomaly_lines(results: dict) -> list[str]:
    mean, std = results, results["std"]
    kinds = list(results["ood"]["mlp"]["max_softmax"])
    lines = [
        "",
        "## Anomaly detection: AUROC, MNIST test (positive) vs each kind",
        "",
        "| detector | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for s in results["ae_set"]:
        lines.append(
            row(f"set best class score ({s})", *(pm(mean, std, "ood", "ae_set", s, k, pct=False) for k in kinds))
        )
    for d, label in MLP_DETECTOR_NAMES.items():
        lines.append(row(f"MLP {label}", *(pm(mean, std, "ood", "mlp", d, k, pct=False) for k in kinds)))
    return lines


def attack_lines(results: dict) -> list[str]:
    adv, std = results["adversarial"], results["std"]
    if adv is None:
        return ["", "## Adversarial accuracy", "", "Not measured (classify.adversarial.n=0).", ""]
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
        r = adv[key]

        def cell(part, e, key=key):
            return pm(results, std, "adversarial", key, part, e, digits=1)

        cells = [f"{100 * r['clean']:.1f}"] + [cell("fgsm", e) for e in eps] + [cell("pgd", e) for e in eps]
        cells += [f"{100 * r['transfer_from_mlp_pgd'][e]:.1f}" if "transfer_from_mlp_pgd" in r else "-" for e in eps]
        cells += [cell("worst_case", e) for e in eps]
        cells += [
            f"{100 * r['accuracy_at_eps_1']:.1f}",
            f"{r['gradient']['zero_gradient_fraction']:.3f}",
            ("yes" if r["gradient_masking_suspected"] else "no") if "gradient_masking_suspected" in r else "-",
        ]
        lines.append(row(key.replace("ae_set_", "set/"), *cells))
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


def worst_case_at(results: dict, key: str, eps: str = "0.1") -> str:
    """The console table's robust accuracy cell ('-' where not measured)."""
    adv = results["adversarial"]
    if not adv or key not in adv or eps not in adv[key]["worst_case"]:
        return "-"
    return f"{100 * at(adv, key, 'worst_case', eps):.1f}"
