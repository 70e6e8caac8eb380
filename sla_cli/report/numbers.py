"""Numbers out of per-seed records, formatted as one value or mean ± std over seeds.

A cell never shows a number the JSON does not hold: a stage that did not complete shows its
status, a key the JSON lacks shows "not reported", anything but a number where a number belongs
"not a number". Text from the JSON is escaped (sla_cli.report.markdown.escape).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape
from sla_cli.values import is_number

NOT_REPORTED = "not reported"
NOT_A_NUMBER = "not a number"
SKIPPED = "skipped"  # what a stage writes for a baseline it was not given the inputs for


def lookup(record, *path):
    """record[path[0]][path[1]]...; an int step indexes a list (a table's rows); None when any step is absent."""
    for key in path:
        if isinstance(key, int) and isinstance(record, list):
            if not 0 <= key < len(record):
                return None
        elif not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def values(stage: Stage, *path, runs: bool = False) -> list | str:
    """The value at ``path`` in every seed's record (every run folder's JSON with ``runs``), or a
    string saying why there is none."""
    if not stage.complete:
        return stage.status
    found = [lookup(r, *path) for r in records_of(stage, runs)]
    if not found or any(v is None for v in found):
        return NOT_REPORTED
    return found


def fmt(x: float, scale: float = 1.0, digits: int = 2, signed: bool = False) -> str:
    """One number, scaled; with its sign always shown when ``signed`` (a difference)."""
    v = scale * float(x)
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def mean_std(xs: list[float], scale: float = 1.0, digits: int = 2, signed: bool = False) -> str:
    """'12.34' for one value, '12.34 ± 0.56' for several seeds (sample std, n-1)."""
    xs = [float(x) for x in xs]
    if any(math.isnan(x) for x in xs):
        return "nan"
    if len(xs) == 1:
        return fmt(xs[0], scale, digits, signed)
    return f"{fmt(statistics.fmean(xs), scale, digits, signed)} ± {fmt(statistics.stdev(xs), scale, digits)}"


def cell(stage: Stage, *path, scale: float = 1.0, digits: int = 2, unit: str = "", runs: bool = False) -> str:
    """A table cell for the number at ``path``: its value, mean ± std, or why it is absent."""
    found = values(stage, *path, runs=runs)
    if isinstance(found, str):
        return found
    if all(v == SKIPPED for v in found):  # a baseline the stage says it skipped
        return SKIPPED
    if not all(is_number(v) for v in found):
        return NOT_A_NUMBER
    return mean_std(found, scale, digits) + unit


def text(stage: Stage, *path, runs: bool = False) -> str:
    """A setting the stage reports in words: a string, or a dict shown as key=value (less its
    long "why", which stays in the JSON)."""
    found = values(stage, *path, runs=runs)
    if isinstance(found, str):
        return found
    v = found[0]
    if isinstance(v, dict):  # fractions to 3 significant digits: a table cell, not the JSON
        return escape(
            "; ".join(f"{k}={x:.3g}" if isinstance(x, float) else f"{k}={x}" for k, x in v.items() if k != "why")
        )
    return escape(v)


def derived(
    stage: Stage, fn: Callable[[dict], float | None], digits: int = 2, scale: float = 1.0, unit: str = ""
) -> str:
    """A cell for a number computed from each seed's record (a ratio, a count), then combined."""
    if not stage.complete:
        return stage.status
    found = [fn(r) for r in stage.records()]
    if not found or any(v is None for v in found):
        return NOT_REPORTED
    if not all(is_number(v) for v in found):
        return NOT_A_NUMBER
    return mean_std(found, scale, digits) + unit


def ratio(record: dict, top: tuple, bottom: tuple) -> float | None:
    a, b = lookup(record, *top), lookup(record, *bottom)
    if not (is_number(a) and is_number(b)) or b == 0:
        return None
    return a / b


def keys(stage: Stage, *path, runs: bool = False) -> list[str]:
    """The keys of the dict at ``path`` in the first record (ood kinds, attack eps...)."""
    found = records_of(stage, runs)
    if isinstance(found, str) or not found:
        return []
    found = lookup(found[0], *path)
    return list(found) if isinstance(found, dict) else []


def first(stage: Stage, *path, runs: bool = False):
    """The value at ``path`` in the first record (a list of rows, a name), or None."""
    found = records_of(stage, runs)
    return None if isinstance(found, str) or not found else lookup(found[0], *path)


# --- numbers with their 95% interval, and differences with a verdict -------------------------------------------

NO_INTERVAL = "no interval"  # a run made before the stage wrote intervals


def records_of(stage: Stage, runs: bool = False) -> list[dict] | str:
    """The records a cell reads: one per seed (``Stage.records``) or, with ``runs``, each run folder's
    whole JSON (where a stage writes numbers pooled over its seeds, classify's ``paired``); the
    stage's state when it did not complete."""
    if not stage.complete:
        return stage.status
    return [r.data if isinstance(r.data, dict) else {} for r in stage.runs] if runs else stage.records()


def bounds(record: dict, ci: tuple | None = None, low_high: tuple[tuple, tuple] | None = None):
    """(low, high) of a record's interval: a two-number list at path ``ci``, or two numbers at the
    paths ``low_high``; None when the record has none, NOT_A_NUMBER when it holds something else."""
    if ci is not None:
        raw = lookup(record, *ci)
    elif low_high is not None:
        raw = [lookup(record, *low_high[0]), lookup(record, *low_high[1])]
        raw = None if raw == [None, None] else raw
    else:
        return None
    if raw is None:
        return None
    if not (isinstance(raw, list) and len(raw) == 2 and all(is_number(v) for v in raw)):
        return NOT_A_NUMBER
    return float(raw[0]), float(raw[1])


def estimate(
    stage: Stage,
    value: tuple,
    ci: tuple | None = None,
    low_high: tuple[tuple, tuple] | None = None,
    *,
    scale: float = 1.0,
    digits: int = 2,
    signed: bool = False,
    runs: bool = False,
    unit: str = "",
) -> str:
    """'v [low, high]' for one record (its own 95% interval, at ``ci`` or ``low_high``); 'mean ± std'
    over several (seeds or runs: the spread is then their error bar); 'v (no interval)' when the run
    wrote none; the stage's state, "not reported", "skipped" or "not a number" as ``cell`` says."""
    found = records_of(stage, runs)
    if isinstance(found, str):
        return found
    vals = [lookup(r, *value) for r in found]
    if not vals or any(v is None for v in vals):
        return NOT_REPORTED
    if all(v == SKIPPED for v in vals):
        return SKIPPED
    if not all(is_number(v) for v in vals):
        return NOT_A_NUMBER
    text = mean_std(vals, scale, digits, signed) + unit
    if len(vals) > 1 or (ci is None and low_high is None) or text == "nan":
        return text
    b = bounds(found[0], ci, low_high)
    if b is None:
        return f"{text} ({NO_INTERVAL})"
    if b == NOT_A_NUMBER:
        return f"{text} [interval: {NOT_A_NUMBER}]"
    return f"{text} [{fmt(b[0], scale, digits, signed)}, {fmt(b[1], scale, digits, signed)}]"


def _side(b) -> str | None:
    if not isinstance(b, tuple):
        return None
    return "above" if b[0] > 0 else "below" if b[1] < 0 else "zero"


def verdict(
    stage: Stage,
    ci: tuple | None = None,
    low_high: tuple[tuple, tuple] | None = None,
    better: str = "higher",
    runs: bool = False,
) -> str:
    """In words, where the interval of ours - control lies: "ours better", "**ours worse**" (bold:
    the reader must not miss it) or "no difference shown"; with several runs, only when every run's
    interval agrees. ``better``: "higher" (accuracy) or "lower" (an error)."""
    found = records_of(stage, runs)
    if isinstance(found, str) or not found:
        return ""
    sides = {_side(bounds(r, ci, low_high)) for r in found}
    if None in sides:
        return NO_INTERVAL
    if len(sides) > 1:
        return "differs between runs"
    side = sides.pop()
    if side == "zero":
        return "no difference shown"
    text = "ours better" if (side == "above") == (better == "higher") else "**ours worse**"
    return text + (f" (each of {len(found)} runs)" if len(found) > 1 else "")


def difference(
    stage: Stage,
    value: tuple,
    ci: tuple | None = None,
    low_high: tuple[tuple, tuple] | None = None,
    *,
    better: str = "higher",
    scale: float = 1.0,
    digits: int = 2,
    runs: bool = False,
) -> list[str]:
    """[ours - control with its interval, the verdict] for a difference a stage wrote (signed); the
    verdict is blank when there is no number to judge."""
    cell = estimate(stage, value, ci, low_high, scale=scale, digits=digits, signed=True, runs=runs)
    found = records_of(stage, runs)
    numbers = not isinstance(found, str) and found and all(is_number(lookup(r, *value)) for r in found)
    return [cell, verdict(stage, ci, low_high, better, runs) if numbers else ""]


def unpaired(stage: Stage, ours: tuple, ours_ci: tuple, theirs: tuple, theirs_ci: tuple, better: str = "higher") -> str:
    """Ours against a control whose paired difference the stage did not write, from the two 95%
    intervals alone (conservative: disjoint intervals only): "ours better", "**ours worse**" or
    "intervals overlap"; blank where either interval is absent or there are several runs."""
    found = records_of(stage)
    if isinstance(found, str) or len(found) != 1:
        return ""
    a, b = bounds(found[0], ours_ci), bounds(found[0], theirs_ci)
    if not (isinstance(a, tuple) and isinstance(b, tuple)) or not all(
        is_number(lookup(found[0], *p)) for p in (ours, theirs)
    ):
        return ""
    if a[0] > b[1] or a[1] < b[0]:
        above = a[0] > b[1]
        return "ours better (intervals apart)" if above == (better == "higher") else "**ours worse** (intervals apart)"
    return "intervals overlap (not a paired test)"
