"""Does sharing shrink the data a context needs? (the abstract's "a way of reducing datasets size")

    PYTHONPATH=. python bench/views_per_digit.py --dataset-dir DIR --out DIR [--ks 2,5,20,C]
        [--figure docs/figures/views_per_digit.png] [-- extra sla train overrides, e.g. preset=smoke]

For each k, `sla train train.views_per_digit=k` shows every training digit in only k of the C
contexts (a fixed seeded choice per digit, the same for both schedules), so each context sees about
k/C of the digits. Two schedules train on the same views with the same number of steps:
``cross`` (the default alternate self/cross schedule: a shared latent space; its cross pairs are
two held views of one digit, see ``held_view_sources``) and ``self`` (train.cross_steps=0: C
independent autoencoders, the baseline). k = 1 is left out: no digit has two views to pair. Each
run's held-out self MSE on test digits in every context (metrics.json: test_self_mse, and over
covered contexts) is tabulated and plotted against k. Runs are ordinary `sla train` folders under
--out, so an interrupted sweep resumes: a complete run is not trained again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SCHEDULES = {"cross": [], "self": ["train.cross_steps=0"]}


def run_one(dataset_dir: str, out: Path, k: int | None, schedule: str, extra: list[str]) -> dict:
    folder = out / f"k{k if k is not None else 'all'}_{schedule}"
    args = [
        sys.executable,
        "-m",
        "sla_cli",
        "train",
        f"dataset_dir={dataset_dir}",
        f"run.out={folder}",
        f"train.views_per_digit={'null' if k is None else k}",
        *SCHEDULES[schedule],
        *extra,
    ]
    if not (folder / "manifest.json").exists():
        print(" ".join(args[2:]), flush=True)
        done = subprocess.run(args, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL)
        if done.returncode:
            sys.exit(f"sla train failed for k={k}, schedule={schedule} (exit {done.returncode})")
    return json.loads((folder / "metrics.json").read_text())


def table(rows: list[dict]) -> str:
    lines = [
        "| views per digit k | share of digits per context | self MSE, cross-trained | self MSE, self only "
        "| cross / self | same, covered contexts: cross | self only | transfer MSE, cross-trained | self only |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c, s = r["cross"], r["self"]
        lines.append(
            f"| {r['k']} | {r['share']:.3f} | {c['test_self_mse']:.5f} | {s['test_self_mse']:.5f} | "
            f"{c['test_self_mse'] / s['test_self_mse']:.3f} | {c['test_self_mse_covered']:.5f} | "
            f"{s['test_self_mse_covered']:.5f} | {c['test_cross_mse']:.5f} | {s['test_cross_mse']:.5f} |"
        )
    floor = rows[-1]["cross"]
    lines += [
        "",
        f"Floors (all contexts): mean image {floor['mean_image_mse']:.5f}, class-mean image "
        f"{floor['class_mean_image_mse']:.5f}.",
    ]
    return "\n".join(lines)


def figure(rows: list[dict], path: Path) -> None:
    from sla_cli.plotting import plt, save_figure

    fig, ax = plt.subplots(figsize=(6, 4))
    ks = [r["k"] for r in rows]
    for schedule, label in (("cross", "self + cross training (shared latent)"), ("self", "self training only")):
        ax.plot(ks, [r[schedule]["test_self_mse"] for r in rows], "o-", label=label)
    ax.plot(
        ks,
        [r["cross"]["test_cross_mse"] for r in rows],
        "s--",
        color="C0",
        alpha=0.6,
        label="cross-trained, transfer (encode in another context)",
    )
    ax.axhline(rows[-1]["cross"]["class_mean_image_mse"], color="gray", ls=":", label="class-mean image floor")
    ax.set_xscale("log")
    ax.set_xlabel("views per training digit k (of C contexts)")
    ax.set_ylabel("test MSE (masked, all contexts)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, path, dpi=110)


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset-dir", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--ks", default="2,5,20,C", help="comma-separated k values >= 2; C = all contexts")
    p.add_argument("--figure", type=Path, default=None)
    p.add_argument(
        "--existing-only", action="store_true", help="train nothing: tabulate the k whose two runs are complete"
    )
    a = p.parse_args(argv)
    n_contexts = json.loads((Path(a.dataset_dir) / "manifest.json").read_text())["n_contexts"]
    ks = [n_contexts if k.strip() == "C" else int(k) for k in a.ks.split(",")]
    if min(ks) < 2:
        sys.exit("--ks: every k must be >= 2 (with one view per digit cross-training has nothing to pair)")
    rows = []
    for k in ks:
        name = f"k{k if k < n_contexts else 'all'}"
        if a.existing_only and not all((a.out / f"{name}_{s}" / "manifest.json").exists() for s in SCHEDULES):
            continue
        row = {"k": k, "share": min(k, n_contexts) / n_contexts}
        for schedule in SCHEDULES:
            row[schedule] = run_one(a.dataset_dir, a.out, None if k >= n_contexts else k, schedule, extra)
        rows.append(row)
    rows.sort(key=lambda r: r["k"])  # run in the order given (the most telling first), tabulate by k
    text = table(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "views_per_digit.md").write_text(text + "\n")
    (a.out / "views_per_digit.json").write_text(json.dumps({"extra_overrides": extra, "rows": rows}, indent=1))
    if a.figure:
        figure(rows, a.figure)
    print(text)


if __name__ == "__main__":
    main()
