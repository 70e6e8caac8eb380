"""The hand-written checks sla_cli/schema/validate.py replaced, verbatim from sla_cli/config_checks.py
before the configs were typed: the reference tests/test_schema.py holds the validator's messages to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig

from sla_cli.config_checks import value
from sla_cli.errors import ConfigError


def check_int(cfg: DictConfig, key: str, low: int | None = None, high: int | None = None) -> int:
    v = value(cfg, key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"{key}={v!r} must be an integer")
    if (low is not None and v < low) or (high is not None and v > high):
        bounds = f">= {low}" if high is None else f"in {low}..{high}" if low is not None else f"<= {high}"
        raise ConfigError(f"{key}={v} must be {bounds}")
    return v


def check_float(
    cfg: DictConfig, key: str, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    v = value(cfg, key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{key}={v!r} must be a number")
    if low is not None and (v <= low if low_open else v < low):
        raise ConfigError(f"{key}={v} must be {'>' if low_open else '>='} {low}")
    if high is not None and v > high:
        raise ConfigError(f"{key}={v} must be <= {high}")
    return float(v)


def check_choice(cfg: DictConfig, key: str, choices: Iterable[Any]) -> Any:
    v = value(cfg, key)
    choices = tuple(choices)
    if v not in choices:
        raise ConfigError(f"{key}={v!r} must be one of {', '.join(map(str, choices))}")
    return v


def check_bool(cfg: DictConfig, key: str) -> bool:
    v = value(cfg, key)
    if not isinstance(v, bool):
        raise ConfigError(f"{key}={v!r} must be true or false")
    return v
