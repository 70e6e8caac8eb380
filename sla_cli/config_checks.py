"""Checks of config values, each failing as one line that names the key."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sla_cli import tracking
from sla_cli.errors import ConfigError

PRESETS = ("smoke", "demo", "paper")  # every command has these
COMMAND_PRESETS = ("hour",)  # some command's own: density's hour (conf/density/hour.yaml); others fail to compose
DEVICES = ("auto", "cpu", "cuda")
LOGGERS = ("none", "tensorboard")


def value(cfg: DictConfig, key: str) -> Any:
    try:
        return OmegaConf.select(cfg, key, throw_on_missing=True)
    except OmegaConfBaseException as e:
        raise ConfigError(f"{key}: {e}".splitlines()[0]) from None


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


def leaves(node: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every leaf of a resolved config; list items as key[i]."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, f"{prefix}[{i}]")
    else:
        yield prefix, node


def _resolved(cfg: DictConfig) -> dict:
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as e:
        raise ConfigError(str(e).splitlines()[0]) from None


def check_finite_numbers(cfg: DictConfig) -> None:
    """No NaN or infinity anywhere: a range check lets NaN through (every comparison is False)."""
    for key, v in leaves(_resolved(cfg)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{key}={v} must be a finite number")


def check_out_not_input(cfg: DictConfig) -> None:
    """A run never writes into a folder it reads (`train dataset_dir=X out=X`): inputs end in _dir."""
    data = _resolved(cfg)
    out = data.get("out")
    if not isinstance(out, str):
        return
    out_path = Path(out).expanduser().resolve()
    for key, v in leaves(data):
        if key.split(".")[-1].endswith("_dir") and isinstance(v, str) and v != "???":
            if Path(v).expanduser().resolve() == out_path:
                raise ConfigError(f"out={out} is the input folder {key}; a run writes into a folder of its own")


def validate_common(cfg: DictConfig) -> None:
    """Keys every subcommand has (conf/common.yaml), and what holds for every key."""
    check_finite_numbers(cfg)
    check_out_not_input(cfg)
    check_choice(cfg, "preset", PRESETS + COMMAND_PRESETS)
    check_int(cfg, "seed", 0, 2**32 - 1)
    check_choice(cfg, "device", DEVICES)
    check_int(cfg, "threads", 0, 1024)
    check_choice(cfg, "precision", ("auto", "fp32", "bf16"))
    check_bool(cfg, "overwrite")
    check_int(cfg, "progress_every", 0)
    check_choice(cfg, "logger", LOGGERS)
    tracking.check_available(cfg.logger)
    if not isinstance(value(cfg, "data.root"), str):
        raise ConfigError("data.root must be a folder path")
    check_bool(cfg, "data.download")
    if OmegaConf.select(cfg, "data.source") is not None:  # stages that read images (generate-cubes, classify, density)
        from data_gen.sources import parse

        try:
            parse(value(cfg, "data.source"))
        except ValueError as e:
            raise ConfigError(str(e)) from None
