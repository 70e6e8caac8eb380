"""The set against each MLP on the same test images: per seed McNemar's test and a paired bootstrap
interval of the accuracy difference, and over the seeds the mean difference with an interval that
resamples the test images once for every seed's pair (sla_cli.stats: McNemar's exact binomial test,
percentile bootstrap)."""

from __future__ import annotations

import statistics

import numpy as np

from sla_cli.stats import bootstrap_paired_difference, mcnemar

BASELINES = ("mlp", "mlp_matched")


def compare(correct: list[dict], seeds: list[int], scorings: list[str], n_boot: int) -> dict:
    """``correct[k][name]``: bool [N_test], was each test image right under seed k's model ``name``
    (a scoring of the set, or an MLP). Differences are set minus MLP, in accuracy (0.01 = 1 point)."""
    out = {}
    for s in scorings:
        for m in BASELINES:
            a = np.stack([c[s] for c in correct])
            b = np.stack([c[m] for c in correct])
            per_seed = []
            for k, seed in enumerate(seeds):
                boot = bootstrap_paired_difference(a[k], b[k], n_boot=n_boot, seed=seed)
                test = mcnemar(a[k], b[k])
                per_seed.append(
                    {
                        "seed": seed,
                        "difference": boot.estimate,
                        "ci95_low": boot.low,
                        "ci95_high": boot.high,
                        "set_only_right": test.a_only,
                        "mlp_only_right": test.b_only,
                        "mcnemar_p_exact": test.p_value,
                    }
                )
            # each image's correctness averaged over seeds, then images resampled: a drawn image counts
            # for every seed's pair at once (paired across models and seeds)
            pooled = bootstrap_paired_difference(a.mean(0), b.mean(0), n_boot=n_boot, seed=seeds[0])
            diffs = [p["difference"] for p in per_seed]
            out[f"{s}_vs_{m}"] = {
                "set_scoring": s,
                "baseline": m,
                "difference": pooled.estimate,  # mean over seeds of (set - MLP) test accuracy
                "difference_std": statistics.stdev(diffs) if len(diffs) > 1 else None,  # over seeds
                "ci95_low": pooled.low,  # bootstrap over test images: test-set noise, not seed noise
                "ci95_high": pooled.high,
                "seeds_set_better_p05": sum(p["difference"] > 0 and p["mcnemar_p_exact"] < 0.05 for p in per_seed),
                "seeds_mlp_better_p05": sum(p["difference"] < 0 and p["mcnemar_p_exact"] < 0.05 for p in per_seed),
                "per_seed": per_seed,
            }
    return {
        "n_boot": n_boot,
        "test": "McNemar exact (binomial) two-sided; bootstrap percentile interval",
        "comparisons": out,
    }


def verdict(c: dict) -> str:
    """In words: which side the interval of a comparison lies on."""
    if c["ci95_low"] > 0:
        return "set better"
    if c["ci95_high"] < 0:
        return "MLP better"
    return "no difference shown"
