"""How a schema field says its range or choices: ``steps: int = at_least(1)``.

Every field's default is MISSING: the value lives in the YAML (conf/<command>.yaml, a preset's file),
the dataclass holds only its type and, as field metadata, what ``validate`` checks. A field without
a range is ``given()``; a section is ``section(Cls)``.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from omegaconf import MISSING


def given(**check: Any) -> Any:
    """A field whose value the YAML gives; ``check`` is the metadata ``validate`` reads."""
    return field(default=MISSING, metadata=check)


def section(cls: type) -> Any:
    """A nested block of fields (``model:``, ``train:``...)."""
    return field(default_factory=cls)


def integer(low: int | None = None, high: int | None = None, **extra: Any) -> Any:
    """An integer, within ``low``..``high`` when given."""
    return given(kind="int", low=low, high=high, **extra)


def at_least(low: int) -> Any:
    return integer(low)


def number(low: float | None = None, high: float | None = None, low_open: bool = False, **extra: Any) -> Any:
    """A number (an integer too), >= low (> low if ``low_open``) and <= high. Type such a
    field ``Any``, not ``float``: OmegaConf would turn an integer as written (``lr=1``, ``fov_deg: 28``)
    into a float (1.0), and that changes the run's identity (its config's hash); ``validate`` checks it."""
    return given(kind="number", low=low, high=high, low_open=low_open, **extra)


def one_of(*choices: Any, **extra: Any) -> Any:
    """One of ``choices``."""
    return given(kind="choice", choices=choices, **extra)


def flag() -> Any:
    """true or false."""
    return given(kind="bool")


# Options a field's check takes (``extra`` above):
#   also="auto": a word accepted besides the range (train.device_data_mb: auto or a number);
#   message="...": the words after "must be" when the value fails (run.resume: "auto, true or false").
