"""Seeds combined (mean and std at every number), table.md and the final rich table."""

from __future__ import annotations

import statistics

from rich.table import Table

from sla_cli.classify.paired import verdict
from sla_cli.classify.report_format import PAPER, SCORING_NOTES, at, count, pm, row
from sla_cli.classify.report_robustness import anomaly_lines, attack_lines, worst_case_at
from sla_cli.runtime import console
from sla_cli.values import is_number

__all__ = ["PAPER", "combine", "table_md", "print_table"]
MODEL_NAMES = {"mlp": "same width", "mlp_matched": "about the set's parameters"}


def _numbers(values: list) -> bool:
    return all(is_number(v) for v in values)


def combine(trees: list, stat: str):
    """Walk per-seed trees of equal shape: numbers -> mean or std (sample, n - 1), equal-length lists
    of numbers -> the same per element, flags -> any, the rest -> the first seed's. A spread needs two
    seeds: with one, every std leaf is None (and flags and text have none)."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: combine([t[k] for t in trees], stat) for k in first}
    if stat == "std" and (len(trees) < 2 or first is None or isinstance(first, (bool, str))):
        return None
    if isinstance(first, bool):
        return any(trees)
    if isinstance(first, (int, float)) and _numbers(trees):
        if stat == "mean":
            return first if isinstance(first, int) and all(t == first for t in trees) else statistics.fmean(trees)
        return statistics.stdev(trees)
    if isinstance(first, list) and all(isinstance(t, list) and len(t) == len(first) and _numbers(t) for t in trees):
        return [combine(list(column), stat) for column in zip(*trees, strict=True)]
    return first if stat == "mean" else None


def _model_rows(results: dict) -> list[str]:
    mean, std = results, results["std"]
    params, arch = results["parameters"], results["arch"]
    prior_use, inputs = results["class_prior"]["use"], results["inputs"]
    lines = []
    for s in results["ae_set"]:
        cal = [pm(mean, std, "ae_set", s, "ece", pct=False), pm(mean, std, "ae_set", s, "nll", pct=False)]
        lines.append(
            row(
                "set of 10 autoencoders",
                f"{s}: {SCORING_NOTES.get(s, s)}",
                inputs["ae_set"],
                prior_use[s],
                count(params["ae_set"]),
                f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-",
                pm(mean, std, "ae_set", s, "accuracy"),
                pm(mean, std, "ae_set", s, "val_accuracy"),
                *(cal if s != "recon" else ["-", "-"]),
            )
        )
    shapes = {
        "mlp": f"784-{arch['mlp_hidden']}-10",
        "mlp_matched": "784-" + "-".join([str(arch["mlp_matched_hidden"])] * arch["mlp_matched_layers"]) + "-10",
    }
    for m, shape in shapes.items():
        lines.append(
            row(
                f"MLP {shape} ({MODEL_NAMES[m]})",
                "softmax",
                inputs[m],
                "learned",
                count(params[m]),
                f"{100 * PAPER['mlp']:.1f}" if m == "mlp" else "-",
                pm(mean, std, m, "accuracy"),
                pm(mean, std, m, "val_accuracy"),
                pm(mean, std, m, "ece", pct=False),
                pm(mean, std, m, "nll", pct=False),
            )
        )
    return lines


def _paired_lines(results: dict) -> list[str]:
    p = results["paired"]
    n = len(results["seeds"])
    lines = [
        "",
        f"## The set against each MLP, paired on the same {results['n_test']:,} test images",
        "",
        "Difference = set minus MLP test accuracy, in points (mean ± std over seeds). 95% interval: percentile "
        f"bootstrap over the test images ({p['n_boot']} draws, each resampling every seed's pair alike: test-set "
        "noise, not seed noise). McNemar: exact two-sided binomial test on the images the two disagree on, per seed.",
        "",
        "| set scoring | against | difference (points) | 95% interval | verdict | McNemar p per seed "
        f"| seeds set better / MLP better (p < 0.05, of {n}) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in p["comparisons"].values():
        d = f"{100 * c['difference']:+.2f}"
        if c["difference_std"] is not None:
            d += f" ± {100 * c['difference_std']:.2f}"
        ps = ", ".join(f"{s['mcnemar_p_exact']:.2g}" for s in c["per_seed"])
        lines.append(
            row(
                c["set_scoring"],
                f"MLP ({MODEL_NAMES[c['baseline']]})",
                d,
                f"[{100 * c['ci95_low']:+.2f}, {100 * c['ci95_high']:+.2f}]",
                verdict(c),
                ps,
                f"{c['seeds_set_better_p05']} / {c['seeds_mlp_better_p05']}",
            )
        )
    return lines


def _tuning_lines(results: dict) -> list[str]:
    t = results["tuning"]
    head = ["", "## Training recipe and the validation grid", ""]
    if not t["enabled"]:
        r = t["grid"][0]
        steps = f" (at least {t['min_steps']} Adam steps)" if t["min_steps"] else ""
        best = (
            ""
            if t["per_seed"] is None
            else " Best on validation (the set by recon), per seed: " + ", ".join(t["winner_on_validation"]) + "."
        )
        return head + [
            f"No grid (classify.tune.enabled=false): every model trains {r['epochs']} epochs{steps}, "
            "no dropout, no weight decay." + best
        ]
    lines = head + [
        f"Every model trains on each of {len(t['grid'])} recipes (every combination of the listed "
        "epochs, dropout, weight decay); the one with the best validation accuracy is kept (the set by "
        "its recon scoring, which fits nothing on validation) and only it meets the test images.",
        "",
    ]
    if t["per_seed"] is None:
        return lines + ["Saved weights were evaluated (classify.weights_from): the grid was not run here."]
    lines += ["| seed | model | kept recipe | val acc. % | val acc. % of each recipe |", "|---|---|---|---|---|"]
    for seed, tuning in zip(results["seeds"], t["per_seed"], strict=True):
        for kind, k in tuning.items():
            chosen = k["chosen"]
            tried = ", ".join(f"{100 * r['val_accuracy']:.2f}" for r in k["tried"])
            lines.append(
                row(
                    str(seed),
                    kind,
                    f"epochs {chosen['epochs']}, dropout {chosen['dropout']:g}, wd {chosen['weight_decay']:g}",
                    f"{100 * k['val_accuracy']:.2f}",
                    tried,
                )
            )
    return lines + ["", "Best on validation, per seed: " + ", ".join(t["winner_on_validation"]) + "."]


def table_md(results: dict) -> str:
    mean, n = results, len(results["seeds"])
    spread = f"mean ± std over {n} seeds" if n > 1 else "one seed: no std"
    per_class = results.get("train_per_class")
    lines = [
        f"# sla classify: paper vs ours ({spread}, device {results['device']}, preset {results['preset']})",
        "",
        f"Class autoencoders trained with loss **{results['training_loss']}**; eq. (4)'s per-class sigma estimated "
        f"on the {results['sigma_estimated_on']} split, its latent Gaussian on the "
        f"{results['latent_gaussian_fitted_on']} split "
        "(mean sigma by split: "
        + ", ".join(f"{k} {v:.4f}" for k, v in results["ae_set"]["full"]["sigma_mean_by_split"].items())
        + "). Class prior: log p(class) from the training counts.",
        "",
        "| model | scoring | inputs | class prior | parameters | paper test acc. % | ours test acc. % "
        "| ours val acc. % | ECE | test NLL |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *_model_rows(results),
        "",
        f"Test images: {results['n_test']}; training images: {results['n_train']}"
        + (f" ({per_class} per class, a seeded draw per seed)" if per_class is not None else "")
        + f"; validation images: {results['n_val']} (recon uses none; full takes its sigma from them"
        + ("" if results["sigma_estimated_on"] == "val" else " only when sigma_from=val")
        + ", calibrated fits its weights on them; the MLPs use them only to pick a recipe).",
        "Inputs: grey = levels in [0, 1]; binarized = one fixed seeded Bernoulli draw (dynamic in training). "
        "ECE: expected calibration error of the top-class probability (15 equal bins); NLL: mean -log p(true class) "
        "in nats. recon is an error, not a probability: no ECE or NLL.",
        f"Train seconds per seed (mean, whole grid): set {mean['train_seconds']['ae_set']:.1f}, "
        f"MLP {mean['train_seconds']['mlp']:.1f}, matched MLP {mean['train_seconds']['mlp_matched']:.1f}.",
    ]
    lines += _paired_lines(results) + _tuning_lines(results) + anomaly_lines(results) + attack_lines(results)
    return "\n".join(lines)


def print_table(results: dict) -> None:
    mean, std = results, results["std"]
    arch = results["arch"]
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

    def au(d):
        return " / ".join(f"{v:.2f}" for v in d.values())

    for s in results["ae_set"]:
        t.add_row(
            "AE set",
            s,
            f"{100 * PAPER['ae_set']:.1f}" if s == "recon" else "-",
            pm(mean, std, "ae_set", s, "accuracy"),
            worst_case_at(results, f"ae_set_{s}"),
            au(results["ood"]["ae_set"][s]),
        )
    names = {
        "mlp": f"MLP {arch['mlp_hidden']}",
        "mlp_matched": f"MLP {arch['mlp_matched_layers']}x{arch['mlp_matched_hidden']}",
    }
    t.add_row(
        names["mlp"],
        "softmax",
        f"{100 * PAPER['mlp']:.1f}",
        pm(mean, std, "mlp", "accuracy"),
        worst_case_at(results, "mlp"),
        au(results["ood"]["mlp"]["max_softmax"]),
    )
    t.add_row(names["mlp_matched"], "softmax", "-", pm(mean, std, "mlp_matched", "accuracy"), "-", "-")
    for d in ("max_logit", "energy"):
        t.add_row("MLP", f"({d.replace('_', ' ')}: AUROC only)", "", "", "", au(at(results, "ood", "mlp", d)))
    console.print(t)
    p = Table(title="set - MLP, test accuracy points [paired 95% interval]")
    p.add_column("set scoring")
    for m in names.values():
        p.add_column(f"vs {m}")
    for s in results["ae_set"]:
        cells = []
        for m in names:
            c = results["paired"]["comparisons"][f"{s}_vs_{m}"]
            cells.append(f"{100 * c['difference']:+.2f} [{100 * c['ci95_low']:+.2f}, {100 * c['ci95_high']:+.2f}]")
        p.add_row(s, *cells)
    console.print(p)
