"""`sla eval concept`'s config checks, each failing as one line that names the key."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from data_gen import glyphs
from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.schema.eval_concept import BLANK_RULES
from sla_cli.values import is_number


def _list(cfg: DictConfig, key: str, ok, what: str, allow_empty: bool = False) -> list:
    """A list whose items all pass ``ok``, without repeats (non-empty unless allowed)."""
    v = value(cfg, key)
    items = list(v) if OmegaConf.is_list(v) else None
    if items is None or (not items and not allow_empty) or not all(ok(x) for x in items):
        raise ConfigError(f"{key}={v!r} must be a {'' if allow_empty else 'non-empty '}list of {what}")
    if len(set(items)) != len(items):
        raise ConfigError(f"{key}={items} repeats a value")
    return items


def validate(cfg: DictConfig) -> None:
    """What depends on other keys, and the lists (each key's type and range: sla_cli/schema/eval_concept.py)."""
    if OmegaConf.is_missing(cfg, "model_dir") or not isinstance(value(cfg, "model_dir"), str):
        raise ConfigError("model_dir=DIR is required: an `sla train` run folder")
    if float(value(cfg, "concept.select_fraction")) + float(value(cfg, "concept.test_fraction")) >= 1:
        raise ConfigError("concept.select_fraction + concept.test_fraction must be below 1: the rest is the fit split")
    _list(cfg, "concept.candidates.temperatures", lambda t: is_number(t) and t > 0, "temperatures > 0")
    _list(
        cfg,
        "concept.candidates.blank_rules",
        lambda r: r in BLANK_RULES,
        f"blank rules ({', '.join(BLANK_RULES)})",
    )
    _list(cfg, "concept.candidates.peak_fractions", lambda f: is_number(f) and 0 <= f <= 1, "numbers in 0..1")
    _list(
        cfg,
        "concept.texture_digits",
        lambda d: isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 9,
        "digits 0..9",
        allow_empty=True,
    )
    _list(
        cfg,
        "concept.texture_glyphs",
        lambda g: g in glyphs.ONESHOT_NAMES,
        f"glyphs ({', '.join(glyphs.ONESHOT_NAMES)})",
        allow_empty=True,
    )
