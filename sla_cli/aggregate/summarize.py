"""Group a sweep's complete runs into experiments; mean +- std of each metric over each group's seeds.

A group is one experiment: runs of one kind whose configs are equal less the seed and the how-to-run
keys (``sla_cli.runfolder.experiment``). Runs that differ in anything else are never averaged
together, whatever the sweep named: a MADE and a VAE run in one folder are two groups. Groups are
labelled by the keys in which they differ (the swept keys, for a plain sweep).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sla_cli.aggregate.collect import RunFolder, config_value
from sla_cli.report.markdown import code, table
from sla_cli.report.markdown import escape as _text
from sla_cli.runfolder.experiment import experiment, flat

LABEL_KEYS = 6  # a label names at most this many keys; more and it is numbered, the keys in aggregate.json


def _experiment(run: RunFolder) -> dict:
    return {"kind": run.kind, **flat(experiment(run.config, less_seed=True))}


def group_keys(runs: list[RunFolder]) -> list[str]:
    """The keys (``kind`` among them) whose values differ between the runs' experiments."""
    flats = [_experiment(r) for r in runs]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flats}) > 1]


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean, and the sample standard deviation (n - 1) when there are at least two values."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def _label(values: dict, number: int) -> str:
    shown = [f"{k}={_show(v)}" for k, v in values.items()]
    if len(shown) > LABEL_KEYS:
        return f"group {number}: {', '.join(shown[:3])} (+{len(shown) - 3} more keys)"
    return ", ".join(shown) or "all runs"


def aggregate(sweep_dir: Path, runs: list[RunFolder]) -> dict:
    complete = [r for r in runs if r.complete]
    keys = group_keys(complete)
    groups: dict[str, dict] = {}
    for r in complete:
        values = {k: r.kind if k == "kind" else config_value(r.config, k) for k in keys}
        experiment_key = json.dumps(_experiment(r), sort_keys=True)
        if experiment_key not in groups:
            groups[experiment_key] = {
                "label": _label(values, len(groups) + 1),
                "values": values,
                "runs": [],
                "seeds": [],
                "samples": {},
            }
        g = groups[experiment_key]
        g["runs"].append(r.path.name)
        g["seeds"].append(config_value(r.config, "seed"))
        for name, v in r.metrics.items():
            g["samples"].setdefault(name, []).append(v)
    for g in groups.values():
        g["n"] = len(g["runs"])
        g["metrics"] = {}
        for name, vs in g.pop("samples").items():
            mean, std = mean_std(vs)
            g["metrics"][name] = {"mean": mean, "std": std, "n": len(vs), "values": vs}
    return {
        "sweep_dir": str(sweep_dir),
        "group_keys": keys,
        "n_complete": len(complete),
        "groups": list(groups.values()),
        "incomplete": [{"folder": r.path.name, "reason": r.reason} for r in runs if not r.complete],
    }


def _show(v) -> str:
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def cell(metric: dict | None) -> str:
    if metric is None:
        return ""
    if metric["std"] is None:
        return f"{metric['mean']:.4g} (n=1)"
    return f"{metric['mean']:.4g} ± {metric['std']:.2g}"


def markdown(result: dict) -> str:
    groups = result["groups"]
    lines = [
        f"# Sweep {_text(result['sweep_dir'])}",
        "",
        "Mean ± standard deviation (n - 1) over the seeds of each group of complete runs. A group is one "
        "experiment: runs whose configs are equal less the seed and the how-to-run keys (out, device, "
        f"threads, resume...); groups differ in {_text(', '.join(result['group_keys']) or 'nothing')}.",
        "",
    ]
    if groups:
        names = list(dict.fromkeys(name for g in groups for name in g["metrics"]))
        lines += table(
            ["metric", *(f"{_text(g['label'])} (n={g['n']})" for g in groups)],
            [[code(name), *(cell(g["metrics"].get(name)) for g in groups)] for name in names],
        )
        runs = [_text(f"{g['label']}: {', '.join(g['runs'])} (seeds {g['seeds']})") for g in groups]
        lines += ["", "Runs: " + "; ".join(runs)]
    else:
        lines += ["No complete run folder: nothing to average."]
    if result["incomplete"]:
        lines += ["", "## Incomplete (not averaged)", ""]
        lines += [f"- {_text(i['folder'])}: {_text(i['reason'])}" for i in result["incomplete"]]
    return "\n".join(lines) + "\n"
