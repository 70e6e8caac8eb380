"""Seeds combined (mean and std at every number), table.md and the final rich table."""

from __future__ import annotations

import statistics

from rich.table import Table

from sla_cli.classify.scoring import SCORINGS
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


def table_md(results: dict) -> str:
    mean, std, n = results, results["std"], len(results["seeds"])
    lines = [f"# sla classify: paper vs ours (mean ± std over {n} seed(s), device {results['device']}, preset {results['preset']})", "",
             "| model | scoring | paper test acc. % | ours test acc. % | ours val acc. % |", "|---|---|---|---|---|"]
    for s in SCORINGS:
        paper = f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-"
        lines.append(f"| set of 10 autoencoders | {s} | {paper} | {_pm(mean, std, 'ae_set', s, 'accuracy')} | {_pm(mean, std, 'ae_set', s, 'val_accuracy')} |")
    lines.append(f"| MLP 784-{results['arch']['mlp_hidden']}-10 | softmax | {100 * PAPER['mlp']:.1f} | {_pm(mean, std, 'mlp', 'accuracy')} | {_pm(mean, std, 'mlp', 'val_accuracy')} |")
    lines += ["", f"Test images: {results['n_test']}; training images: {results['n_train']}; validation (calibration) images: {results['n_val']}.",
              f"Train seconds per seed (mean): set {mean['train_seconds']['ae_set']:.1f}, MLP {mean['train_seconds']['mlp']:.1f}.", "",
              "## Anomaly detection: AUROC, MNIST test (positive) vs each kind", "",
              "| detector | " + " | ".join(results["ood"]["mlp"]) + " |", "|---|" + "---|" * len(results["ood"]["mlp"])]
    for s in SCORINGS:
        lines.append(f"| set best class score ({s}) | " + " | ".join(_pm(mean, std, 'ood', 'ae_set', s, k, pct=False) for k in results["ood"]["mlp"]) + " |")
    lines.append("| MLP max softmax | " + " | ".join(_pm(mean, std, 'ood', 'mlp', k, pct=False) for k in results["ood"]["mlp"]) + " |")
    adv = results["adversarial"]
    eps = [str(e) for e in adv["eps"]]
    lines += ["", f"## Adversarial accuracy % ({adv['n']} test images, white-box L-inf, PGD {adv['pgd_steps']} steps, margin loss)", "",
              "| target | clean | " + " | ".join(f"FGSM {e}" for e in eps) + " | " + " | ".join(f"PGD {e}" for e in eps)
              + " | " + " | ".join(f"transfer {e}" for e in eps) + " | " + " | ".join(f"worst case {e}" for e in eps)
              + " | zero-grad share | gradient hidden? |",
              "|---|" + "---|" * (4 * len(eps) + 3)]
    for key in [k for k in adv if k == "mlp" or k.startswith("ae_set_")]:
        r, rs = adv[key], std["adversarial"][key]
        cells = [f"{100 * r['clean']:.1f}"] + [f"{100 * r['fgsm'][e]:.1f} ± {100 * rs['fgsm'][e]:.1f}" for e in eps]
        cells += [f"{100 * r['pgd'][e]:.1f} ± {100 * rs['pgd'][e]:.1f}" for e in eps]
        cells += [f"{100 * r['transfer_from_mlp_pgd'][e]:.1f}" if "transfer_from_mlp_pgd" in r else "-" for e in eps]
        cells += [f"{100 * r['worst_case'][e]:.1f} ± {100 * rs['worst_case'][e]:.1f}" for e in eps]
        cells += [f"{r['gradient']['zero_gradient_fraction']:.3f}",
                  ("yes" if r["gradient_masking_suspected"] else "no") if "gradient_masking_suspected" in r else "-"]
        lines.append(f"| {key.replace('ae_set_', 'set/')} | " + " | ".join(cells) + " |")
    lines += ["", "Worst case = images classified correctly under every attack tried on them (FGSM, PGD, and for the set "
              "also the transfer attack): the robust accuracy to quote.",
              "Transfer = accuracy on the PGD examples crafted against the MLP (a black-box check: a white-box "
              "accuracy far above it would mean the scoring hides its gradient rather than resists).", ""]
    return "\n".join(lines)


def print_table(results: dict) -> None:
    mean, std = results, results["std"]
    t = Table(title=f"sla classify ({len(results['seeds'])} seed(s), {results['device']})")
    for col in ("model", "scoring", "paper %", "ours test %", "robust eps=0.1 %", "AUROC noise/glyphs/rot/inv"):
        t.add_column(col)
    adv = results["adversarial"]
    pgd = lambda key: f"{100 * adv[key]['worst_case']['0.1']:.1f}" if key in adv and "0.1" in adv[key]["pgd"] else "-"
    au = lambda d: " / ".join(f"{v:.2f}" for v in d.values())
    for s in SCORINGS:
        t.add_row("AE set", s, f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-",
                  _pm(mean, std, "ae_set", s, "accuracy"), pgd(f"ae_set_{s}"), au(results["ood"]["ae_set"][s]))
    t.add_row("MLP", "softmax", f"{100 * PAPER['mlp']:.1f}", _pm(mean, std, "mlp", "accuracy"), pgd("mlp"), au(results["ood"]["mlp"]))
    console.print(t)
