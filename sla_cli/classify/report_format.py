"""Cells of classify's tables: mean ± std over seeds (one seed: the mean alone), rows, names."""

from __future__ import annotations

from sla_cli import paper

PAPER = paper.TABLE1_ACCURACY

SCORING_NOTES = {
    "recon": "-‖x - f(z*)‖² (the paper's)",
    "full": "eq. (4), per-class sigma",
    "calibrated": "eq. (5) weights fitted on val",
    "learned_sigma": "eq. (4), learned per-pixel sigma",
}
MLP_DETECTOR_NAMES = {"max_softmax": "max softmax", "max_logit": "max logit", "energy": "energy (logsumexp)"}


def at(tree, *path):
    """``tree[p0][p1]...``; None where a part is missing or None (one seed's std)."""
    for p in path:
        if tree is None:
            return None
        tree = tree.get(p) if isinstance(tree, dict) else None
    return tree


def pm(mean: dict, std: dict | None, *path: str, pct: bool = True, digits: int | None = None) -> str:
    """'97.89 ± 0.12' (percent) or '0.981 ± 0.004'; the mean alone when there is no std (one seed)."""
    m, s = at(mean, *path), at(std, *path)
    if m is None:
        return "-"
    scale, d = (100, 2 if digits is None else digits) if pct else (1, 3 if digits is None else digits)
    return f"{scale * m:.{d}f}" + ("" if s is None else f" ± {scale * s:.{d}f}")


def row(*cells: str) -> str:
    """One markdown table row."""
    return "| " + " | ".join(cells) + " |"


def count(n: int) -> str:
    return f"{n:,}"
