"""What counts as a number in a JSON record or a config value: an int or a float, never a bool (JSON's
true/false would otherwise pass as 1/0). One definition for the report, classify's seed summary, the
concept's config checks and the TensorBoard view."""

from __future__ import annotations

from typing import Any


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_plottable(v: Any) -> bool:
    """A number other than NaN: a training log's NaN is a cell with nothing measured at that step."""
    return is_number(v) and v == v
