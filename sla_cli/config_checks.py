"""Checks of config values, each failing as one line that names the key."""

from __future__ import annotations

import math
from collections.abc import Iterator
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
    """A run never writes into a folder it reads (`train dataset_dir=X run.out=X`): inputs end in _dir."""
    data = _resolved(cfg)
    out = (data.get("run") or {}).get("out")
    if not isinstance(out, str):
        return
    out_path = Path(out).expanduser().resolve()
    for key, v in leaves(data):
        if key.split(".")[-1].endswith("_dir") and isinstance(v, str) and v != "???":
            if Path(v).expanduser().resolve() == out_path:
                raise ConfigError(f"run.out={out} is the input folder {key}; a run writes into a folder of its own")


def validate_common(cfg: DictConfig) -> None:
    """What holds for every key of every subcommand, and the common keys' checks that are more than a
    range or a choice (those are in sla_cli/schema/common.py)."""
    check_finite_numbers(cfg)
    check_out_not_input(cfg)
    tracking.check_available(cfg.run.logger)
    if not isinstance(value(cfg, "run.data_root"), str):
        raise ConfigError("run.data_root must be a folder path")
    if OmegaConf.select(cfg, "data.source") is not None:  # stages that read images (generate-cubes, classify, density)
        from data_gen.sources import parse

        try:
            parse(value(cfg, "data.source"))
        except ValueError as e:
            raise ConfigError(str(e)) from None
