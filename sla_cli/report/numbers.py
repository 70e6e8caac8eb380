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

NOT_REPORTED = "not reported"
NOT_A_NUMBER = "not a number"
SKIPPED = "skipped"  # what a stage writes for a baseline it was not given the inputs for


def lookup(record, *path):
    """record[path[0]][path[1]]...; None when any step is absent."""
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def values(stage: Stage, *path) -> list | str:
    """The value at ``path`` in every seed's record, or a string saying why there is none."""
    if not stage.complete:
        return stage.status
    found = [lookup(r, *path) for r in stage.records()]
    if not found or any(v is None for v in found):
        return NOT_REPORTED
    return found


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def mean_std(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """'12.34' for one value, '12.34 ± 0.56' for several seeds (sample std, n-1)."""
    xs = [scale * float(x) for x in xs]
    if any(math.isnan(x) for x in xs):
        return "nan"
    if len(xs) == 1:
        return f"{xs[0]:.{digits}f}"
    return f"{statistics.fmean(xs):.{digits}f} ± {statistics.stdev(xs):.{digits}f}"


def cell(stage: Stage, *path, scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """A table cell for the number at ``path``: its value, mean ± std, or why it is absent."""
    found = values(stage, *path)
    if isinstance(found, str):
        return found
    if all(v == SKIPPED for v in found):  # a baseline the stage says it skipped
        return SKIPPED
    if not all(is_number(v) for v in found):
        return NOT_A_NUMBER
    return mean_std(found, scale, digits) + unit


def text(stage: Stage, *path) -> str:
    """A setting the stage reports in words: a string, or a dict shown as key=value (less its
    long "why", which stays in the JSON)."""
    found = values(stage, *path)
    if isinstance(found, str):
        return found
    v = found[0]
    if isinstance(v, dict):
        return escape("; ".join(f"{k}={x}" for k, x in v.items() if k != "why"))
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


def keys(stage: Stage, *path) -> list[str]:
    """The keys of the dict at ``path`` in the first record (ood kinds, attack eps...)."""
    if not stage.complete or not stage.records():
        return []
    found = lookup(stage.records()[0], *path)
    return list(found) if isinstance(found, dict) else []
