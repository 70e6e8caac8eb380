"""`sla classify`'s config checks, run before any work: each bad value is one line naming its key."""

from __future__ import annotations

from omegaconf import OmegaConf

from sla_cli.classify import density_classifier
from sla_cli.classify.scoring import SCORINGS
from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.values import is_number


def _list(cfg, key: str, example: str) -> list:
    v = value(cfg, key)
    items = list(v) if OmegaConf.is_list(v) or isinstance(v, (list, tuple)) else None
    if not items:
        raise ConfigError(f"{key}={v!r} must be a non-empty list, e.g. {example}")
    if len(set(items)) != len(items):
        raise ConfigError(f"{key}={items} repeats a value")
    return items


def int_list(cfg, key: str, low: int, high: int | None = None) -> list:
    items = _list(cfg, key, "[0,1,2]")
    for s in items:
        if isinstance(s, bool) or not isinstance(s, int) or s < low or (high is not None and s > high):
            raise ConfigError(f"{key}={items} must hold integers >= {low}")
    return items


def number_list(cfg, key: str, low: float, below: float | None = None) -> list:
    """Numbers >= low (and < below when given)."""
    items = _list(cfg, key, "[0.0,0.2]")
    for s in items:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or s < low or (below is not None and s >= below):
            bounds = f"in [{low}, {below})" if below is not None else f">= {low}"
            raise ConfigError(f"{key}={items} must hold numbers {bounds}")
    return items


def validate(cfg) -> None:
    """The lists, and what depends on other keys (each key's type and range: sla_cli/schema/classify.py)."""
    int_list(cfg, "classify.seeds", 0, 2**32 - 1)
    int_list(cfg, "classify.tune.epochs", 1)
    number_list(cfg, "classify.tune.dropout", 0.0, 1.0)
    number_list(cfg, "classify.tune.weight_decay", 0.0)
    extra = value(cfg, "classify.ood.extra")
    if not OmegaConf.is_list(extra) or not all(isinstance(p, str) and p for p in extra):
        raise ConfigError(f"classify.ood.extra={extra!r} must be a list of folders, e.g. [/data/letters]")
    _check_attacks(cfg)
    wf = value(cfg, "classify.weights_from")
    if wf is not None and not isinstance(wf, str):
        raise ConfigError("classify.weights_from must be null or the folder of an earlier sla classify run")
    if wf is not None and cfg.classify.tune.enabled:
        raise ConfigError("classify.tune.enabled=true trains a grid: it cannot evaluate saved weights (weights_from)")
    density_classifier.validate(cfg)


def _check_attacks(cfg) -> None:
    eps = value(cfg, "classify.adversarial.eps")
    if not OmegaConf.is_list(eps) or not all(is_number(e) and 0 < e <= 1 for e in eps):
        raise ConfigError(f"classify.adversarial.eps={eps!r} must be a list of numbers in (0, 1]")
    scorings = value(cfg, "classify.adversarial.scorings")
    if not OmegaConf.is_list(scorings) or any(s not in SCORINGS for s in scorings):
        raise ConfigError(f"classify.adversarial.scorings={scorings!r} must list some of {', '.join(SCORINGS)}")
