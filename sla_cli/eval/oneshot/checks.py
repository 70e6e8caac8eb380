"""validate() for `sla eval oneshot`: every key checked before anything is read, each failing as one line."""

from __future__ import annotations

import re

from omegaconf import DictConfig, ListConfig

from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.eval.oneshot.glyph_sets import MAX_CLASSES
from sla_cli.eval.oneshot.measure import ORACLE, OURS, PIXELS
from sla_cli.eval.oneshot.report import NO_CROSS
from sla_cli.schema.validate import check_integer

BASELINE_NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED = (OURS, ORACLE, PIXELS, NO_CROSS)  # names the stage gives its own methods


def _folder_or_null(cfg: DictConfig, key: str) -> None:
    v = value(cfg, key)
    if v is not None and (not isinstance(v, str) or not v):
        raise ConfigError(f"{key}={v!r} must be a folder path or null")


def _glyph_source(cfg: DictConfig) -> None:
    mode = value(cfg, "oneshot.glyphs")
    given = value(cfg, "oneshot.glyphs_dir") is not None
    if mode == "dir" and not given:
        raise ConfigError("oneshot.glyphs=dir needs oneshot.glyphs_dir=FOLDER")
    if mode in ("builtin", "fonts") and given:
        raise ConfigError(f"oneshot.glyphs_dir is read only with oneshot.glyphs=dir or auto, not {mode}")
    classes = value(cfg, "oneshot.classes")
    if classes is not None:
        top = MAX_CLASSES.get("builtin" if mode == "auto" and not given else mode)
        check_integer(cfg, "oneshot.classes", 2, top)


def _glyph_seeds(cfg: DictConfig) -> None:
    seeds = value(cfg, "oneshot.glyph_seeds")
    if seeds is None:
        return
    ok = (
        isinstance(seeds, (list, ListConfig))
        and len(seeds) > 0
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    )
    if not ok or len(set(seeds)) != len(seeds):
        raise ConfigError(
            f"oneshot.glyph_seeds={seeds!r} must be null or a list of distinct integers >= 0, e.g. [0,1,2]"
        )


def _baseline_dirs(cfg: DictConfig) -> None:
    dirs = value(cfg, "oneshot.baseline_model_dirs")
    if dirs is None:
        return
    if not isinstance(dirs, DictConfig):
        raise ConfigError(
            f"oneshot.baseline_model_dirs={dirs!r} must map names to model folders, "
            "e.g. {shared_ae:DIR,contrastive:DIR}"
        )
    for name in dirs:
        if not isinstance(name, str) or not BASELINE_NAME.fullmatch(name) or name in RESERVED:
            raise ConfigError(
                f"oneshot.baseline_model_dirs: {name!r} must be a lower-case name "
                f"(letters, digits, _) other than {', '.join(RESERVED)}"
            )
        _folder_or_null(cfg, f"oneshot.baseline_model_dirs.{name}")


def validate(cfg: DictConfig) -> None:
    """What depends on other keys, the lists and the names (types and ranges: sla_cli/schema/eval_oneshot.py)."""
    for key in ("oneshot.glyphs_dir", "oneshot.ablation_model_dir"):
        _folder_or_null(cfg, key)
    _glyph_source(cfg)
    _glyph_seeds(cfg)
    _baseline_dirs(cfg)
