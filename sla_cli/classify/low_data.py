"""The low-data regime from an `sla classify -m classify.train_per_class=...` sweep: one table and one
figure (test accuracy against images per class, log axis, a band of one std over seeds).

Each job folder of the sweep is an ordinary classify run (read through its manifest's sha256); its
seeds give the spread and its paired comparisons the set - MLP intervals. Several jobs at the same N
(seeds swept as separate jobs) pool their seeds for the accuracy columns; their intervals are then
listed per job.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from sla_cli.classify.paired import verdict
from sla_cli.errors import DataError
from sla_cli.pipeline.registry import CLASSIFY_FILES
from sla_cli.plotting import plt
from sla_cli.runfolder import MANIFEST, read_manifest, verify_file
from sla_cli.values import is_number

MODELS = {
    "recon": "set, recon",
    "full": "set, full",
    "calibrated": "set, calibrated",
    "mlp": "MLP, same width",
    "mlp_matched": "MLP, set's parameters",
}


def read_sweep(sweep_dir: Path) -> list[dict]:
    """The results.json of every complete classify run under ``sweep_dir`` (job folders without a
    manifest are skipped: a sweep still running or a job that died)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise DataError(f"{sweep_dir} is not a folder (expected the run.out=DIR of an `sla classify -m` sweep)")
    runs = []
    for folder in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and (p / MANIFEST).exists()):
        manifest = read_manifest(folder, "classify")
        results = json.loads(verify_file(folder, manifest, CLASSIFY_FILES.results).read_text())
        runs.append(_checked(results, folder))
    if not runs:
        raise DataError(f"{sweep_dir} holds no complete sla classify run (no job folder with manifest.json)")
    return runs


def _checked(results, folder: Path) -> dict:
    """``results`` if it holds what the table reads, as numbers; else one DataError naming the folder
    (a hand-edited or foreign results.json must not reach the table as text or a traceback)."""

    def bad(what: str) -> DataError:
        return DataError(f"{folder}/{CLASSIFY_FILES.results}: {what}")

    if not isinstance(results, dict) or not isinstance(results.get("per_seed"), list) or not results["per_seed"]:
        raise bad("no per_seed list")
    n = results.get("train_per_class")
    if not (n is None or (is_number(n) and n > 0)) or not is_number(results.get("n_train")):
        raise bad("train_per_class and n_train must be numbers")
    for seed in results["per_seed"]:
        try:
            values = [_accuracy(seed, m) for m in MODELS]
        except (KeyError, TypeError):
            raise bad("a seed lacks an accuracy of " + ", ".join(MODELS)) from None
        if not all(is_number(v) for v in values):
            raise bad("an accuracy is not a number")
    comparisons = results.get("paired", {}).get("comparisons") if isinstance(results.get("paired"), dict) else None
    if not isinstance(comparisons, dict):
        raise bad("no paired.comparisons")
    for c in comparisons.values():
        if not isinstance(c, dict) or c.get("set_scoring") not in MODELS or c.get("baseline") not in MODELS:
            raise bad("a paired comparison names no known model")
        if not all(is_number(c.get(k)) for k in ("difference", "ci95_low", "ci95_high")) or not (
            c.get("difference_std") is None or is_number(c["difference_std"])
        ):
            raise bad("a paired comparison's difference or interval is not a number")
    return results


def sweep_command(sweep_dir: Path) -> str | None:
    """The `sla classify -m ...` that made the sweep, from Hydra's multirun.yaml (None without one)."""
    multirun = Path(sweep_dir) / "multirun.yaml"
    if not multirun.exists():
        return None
    try:
        task = OmegaConf.load(multirun).hydra.overrides.task
        return "sla classify -m " + " ".join(str(t) for t in task)
    except Exception:  # a hand-edited or truncated multirun.yaml: the command is unknown, the table still true
        return None


def _accuracy(seed_numbers: dict, model: str) -> float:
    numbers = seed_numbers["ae_set"] if model in seed_numbers["ae_set"] else seed_numbers
    return numbers[model]["accuracy"]


def summarize(runs: list[dict]) -> list[dict]:
    """One row per N (images per class; None = all), in increasing N: mean and std over every seed of
    each model's test accuracy, and the jobs' paired comparisons."""
    groups: dict = {}
    for r in runs:
        groups.setdefault(r["train_per_class"], []).append(r)
    rows = []
    for n, group in sorted(groups.items(), key=lambda kv: float("inf") if kv[0] is None else kv[0]):
        seeds = [s for r in group for s in r["per_seed"]]
        acc = {}
        for m in MODELS:
            values = [_accuracy(s, m) for s in seeds]
            acc[m] = (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None)
        rows.append(
            {
                "per_class": n,
                "n_train": group[0]["n_train"],
                "n_seeds": len(seeds),
                "accuracy": acc,
                "paired": [r["paired"]["comparisons"] for r in group],
            }
        )
    return rows


def _cell(mean: float, std: float | None) -> str:
    return f"{100 * mean:.2f}" + ("" if std is None else f" ± {100 * std:.2f}")


def _label(row: dict) -> str:
    return str(row["per_class"]) if row["per_class"] is not None else f"all (~{row['n_train'] // 10})"


def markdown(rows: list[dict], command: str | None) -> str:
    """The sweep's page (bench/classify_low_data.py): a title, the command, the tables."""
    lines = [
        "# Low-data regime: test accuracy % against training images per class",
        "",
        f"Made by: `{command}`" if command else "Made by: (no multirun.yaml: the sweep command is unknown)",
        "",
        *tables(rows, heading="##"),
    ]
    return "\n".join(lines)


def tables(rows: list[dict], heading: str) -> list[str]:
    """The accuracy table and the paired-difference table with its note (shared with `sla report`, whose
    sub-headings are one level deeper: ``heading`` is "##" or "####")."""
    lines = [
        "| images per class | seeds | " + " | ".join(MODELS.values()) + " |",
        "|---|---|" + "---|" * len(MODELS),
    ]
    for row in rows:
        lines.append(
            f"| {_label(row)} | {row['n_seeds']} | " + " | ".join(_cell(*row["accuracy"][m]) for m in MODELS) + " |"
        )
    lines += [
        "",
        f"{heading} Set minus MLP, paired on the test images (points; 95% bootstrap interval over test images)",
        "",
        "| images per class | set scoring | against | difference | 95% interval | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        for comps in row["paired"]:
            for c in comps.values():
                sd = "" if c["difference_std"] is None else f" ± {100 * c['difference_std']:.2f}"
                lines.append(
                    f"| {_label(row)} | {c['set_scoring']} | {MODELS[c['baseline']]} | "
                    f"{100 * c['difference']:+.2f}{sd} | [{100 * c['ci95_low']:+.2f}, "
                    f"{100 * c['ci95_high']:+.2f}] | {verdict(c)} |"
                )
    lines += [
        "",
        "Every model trains on the same N images per class (a seeded draw per seed) for at least "
        "classify.train.min_steps Adam steps. The validation split is the full one at every N: recon uses "
        "none of it, but full takes its per-class sigma from it and calibrated fits its weights on it, so "
        "at small N those two see many more labelled images than the MLPs (which use validation only when "
        "the grid is on). recon against the MLPs is the clean comparison.",
        "",
    ]
    return lines


def figure(rows: list[dict]):
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    x = np.array([r["per_class"] if r["per_class"] is not None else r["n_train"] / 10 for r in rows], dtype=float)
    for m, label in MODELS.items():
        mean = np.array([r["accuracy"][m][0] for r in rows]) * 100
        std = np.array([r["accuracy"][m][1] or 0.0 for r in rows]) * 100
        style = "--" if m.startswith("mlp") else "-"
        (line,) = ax.plot(x, mean, style, marker="o", ms=3, label=label)
        ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log")
    ax.set_xticks(x, [_label(r).split(" ")[0] for r in rows])
    ax.set_xlabel("training images per class (log scale)")
    ax.set_ylabel("MNIST test accuracy %")
    ax.set_title("Set of class autoencoders vs MLPs as training data shrinks (band: ± 1 std over seeds)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
