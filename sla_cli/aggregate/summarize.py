"""Group a sweep's complete runs by the swept keys other than the seed; mean +- std of each metric."""

from __future__ import annotations

import json
import math
from pathlib import Path

from omegaconf import OmegaConf

from sla_cli.aggregate.collect import RunFolder, config_value

IGNORED_KEYS = {"out", "overwrite", "data.root"}  # where a run went or read from, not what it computed


def is_seed_key(key: str) -> bool:
    """seed=0,1,2 (every command) and classify.seeds=[0],[1] are what a mean over seeds averages out."""
    return key.rsplit(".", 1)[-1] in ("seed", "seeds")


def swept_keys(sweep_dir: Path, runs: list[RunFolder]) -> list[str]:
    """The keys the sweep varied: the sweep overrides named in Hydra's multirun.yaml, else every
    config key whose value differs between the complete runs."""
    multirun = Path(sweep_dir) / "multirun.yaml"
    if multirun.exists():
        from hydra.core.override_parser.overrides_parser import OverridesParser

        task = OmegaConf.load(multirun).hydra.overrides.task
        parsed = OverridesParser.create().parse_overrides(list(task))
        return [o.key_or_group for o in parsed if o.is_sweep_override()]
    flat = [_flat_config(r.config) for r in runs if r.complete]
    keys = sorted({k for f in flat for k in f})
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1 and k not in IGNORED_KEYS]


def _flat_config(config: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in config.items():
        if isinstance(v, dict):
            out.update(_flat_config(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean, and the sample standard deviation (n - 1) when there are at least two values."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def aggregate(sweep_dir: Path, runs: list[RunFolder]) -> dict:
    keys = [k for k in swept_keys(sweep_dir, runs) if not is_seed_key(k)]
    complete = [r for r in runs if r.complete]
    if len({r.kind for r in complete}) > 1:
        keys = ["kind", *keys]
    groups: dict[str, dict] = {}
    for r in complete:
        values = {k: r.kind if k == "kind" else config_value(r.config, k) for k in keys}
        label = ", ".join(f"{k}={_show(v)}" for k, v in values.items()) or "all runs"
        g = groups.setdefault(label, {"label": label, "values": values, "runs": [], "seeds": [], "samples": {}})
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
    return {"sweep_dir": str(sweep_dir), "swept_keys": keys, "n_complete": len(complete),
            "groups": list(groups.values()),
            "incomplete": [{"folder": r.path.name, "reason": r.reason} for r in runs if not r.complete]}


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
    lines = [f"# Sweep {result['sweep_dir']}", "",
             f"Mean ± standard deviation (n - 1) over the seeds of each group of complete runs; "
             f"groups by {', '.join(result['swept_keys']) or 'nothing (one group)'}.", ""]
    if groups:
        lines += ["| metric | " + " | ".join(f"{g['label']} (n={g['n']})" for g in groups) + " |",
                  "|---|" + "---:|" * len(groups)]
        names = list(dict.fromkeys(name for g in groups for name in g["metrics"]))
        lines += [f"| {name} | " + " | ".join(cell(g["metrics"].get(name)) for g in groups) + " |" for name in names]
        runs = [f"{g['label']}: {', '.join(g['runs'])} (seeds {g['seeds']})" for g in groups]
        lines += ["", "Runs: " + "; ".join(runs)]
    else:
        lines += ["No complete run folder: nothing to average."]
    if result["incomplete"]:
        lines += ["", "## Incomplete (not averaged)", ""]
        lines += [f"- `{i['folder']}`: {i['reason']}" for i in result["incomplete"]]
    return "\n".join(lines) + "\n"
