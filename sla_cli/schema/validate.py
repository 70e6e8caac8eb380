"""Check a composed config against its schema's field metadata, each failure one line naming the key.

OmegaConf enforces a field's type when the config is composed and on every override (``train.steps=abc``
fails there: ``type_error`` words that failure as the line below would). ``validate`` then checks what a
type cannot say: ranges, choices, and the kinds of keys typed ``Any`` (``auto`` or a number) or
``Optional`` (null or an integer). Its messages are those of the hand-written checks it replaces
(``train.steps=0 must be >= 1``, ``x='y' must be one of a, b``): tests/test_schema.py compares them.
Checks that depend on other keys (a range only for one variant, a sum, a file) stay in the stages.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ValidationError

from sla_cli.config_checks import value
from sla_cli.errors import ConfigError

_KIND_OF_TYPE: dict[Any, str] = {int: "int", float: "number", bool: "bool"}


def validate(cfg: DictConfig, schema: type, prefix: str = "") -> None:
    """Every field of ``schema`` (a dataclass), read at ``prefix`` in ``cfg``; ConfigError at the first bad one."""
    hints = typing.get_type_hints(schema)
    parent = OmegaConf.select(cfg, prefix.rstrip(".")) if prefix else cfg
    for f in dataclasses.fields(schema):
        key, hint = f"{prefix}{f.name}", hints[f.name]
        if dataclasses.is_dataclass(hint):
            validate(cfg, hint, f"{key}.")  # type: ignore[arg-type]  # a nested section's class
        elif not OmegaConf.is_missing(parent, f.name):  # ???: a value only the user gives (check_config says so)
            check(key, value(cfg, key), hint, f.metadata)


def check(key: str, v: Any, hint: Any, meta: Mapping[str, Any]) -> None:
    """One value against its field's type hint and metadata."""
    hint, optional = _unwrap_optional(hint)
    if v is None and optional:
        return
    if "also" in meta and v == meta["also"] and isinstance(v, str):
        return
    kind = meta.get("kind") or _KIND_OF_TYPE.get(hint)
    problem = _problem(key, v, kind, meta)
    if problem:
        raise ConfigError(f"{key}={v!r} must be {meta['message']}" if "message" in meta else problem)


_WORDS = {"int": "an integer", "number": "a number", "bool": "true or false"}


def check_integer(cfg: DictConfig, key: str, low: int | None = None, high: int | None = None) -> int:
    """An integer whose range depends on other keys (the stage says which): checked as a field would be."""
    v = value(cfg, key)
    check(key, v, int, {"kind": "int", "low": low, "high": high})
    return v


def _problem(key: str, v: Any, kind: str | None, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with ``v``, in the words of sla_cli.config_checks; None when nothing is."""
    low, high = meta.get("low"), meta.get("high")
    if kind == "bool":
        return None if isinstance(v, bool) else f"{key}={v!r} must be true or false"
    if kind == "widths" and not (isinstance(v, (list, ListConfig)) and v and all(type(h) is int and h >= 1 for h in v)):
        return f"{key}={v!r} must be a non-empty list of positive integers, e.g. [500]"
    if kind == "choice":
        choices = meta["choices"]
        return None if v in choices else f"{key}={v!r} must be one of {', '.join(map(str, choices))}"
    if kind == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            return f"{key}={v!r} must be an integer"
        if (low is not None and v < low) or (high is not None and v > high):
            bounds = f">= {low}" if high is None else f"in {low}..{high}" if low is not None else f"<= {high}"
            return f"{key}={v} must be {bounds}"
    if kind == "number":
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"{key}={v!r} must be a number"
        if low is not None and (v <= low if meta.get("low_open") else v < low):
            return f"{key}={v} must be {'>' if meta.get('low_open') else '>='} {low}"
        if high is not None and v > high:
            return f"{key}={v} must be <= {high}"
    return None


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else Any), True
    return hint, False


def type_error(error: BaseException, schema: type) -> str | None:
    """A compose failure caused by a value its field's type refuses (``train.steps=abc`` on the command
    line, ``steps: abc`` in a YAML file), as one line in validate's words; None for any other failure."""
    seen: BaseException | None = error
    while seen is not None and not (isinstance(seen, ValidationError) and getattr(seen, "full_key", None)):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    key, v = str(seen.full_key), getattr(seen, "value", None)
    hint = _unwrap_optional(_hint_at(schema, key))[0]
    meta = _metadata_at(schema, key)
    if "message" in meta:
        return f"{key}={v!r} must be {meta['message']}"
    if typing.get_origin(hint) is list:
        return f"{key}={v!r} must be a list"
    kind = _KIND_OF_TYPE.get(hint)
    if kind is None:
        return f"{key}={v!r}: {str(seen).splitlines()[0]}"
    return f"{key}={v!r} must be {_WORDS[kind]}"


def _metadata_at(schema: Any, key: str) -> Mapping[str, Any]:
    """The field metadata of dotted ``key`` in ``schema`` ({} if none)."""
    parent, _, name = re.sub(r"\[.*", "", key).rpartition(".")
    cls = _hint_at(schema, parent) if parent else schema
    found = [f for f in dataclasses.fields(cls) if f.name == name] if dataclasses.is_dataclass(cls) else []
    return found[0].metadata if found else {}


def _hint_at(schema: Any, key: str) -> Any:
    """The type hint of dotted ``key`` in ``schema`` (``a.b[0]``: the list ``a.b``'s item type); None if unknown."""
    hint: Any = schema
    for part in re.split(r"\.|(?=\[)", key):
        if part.startswith("["):
            hint = (typing.get_args(_unwrap_optional(hint)[0]) or (None,))[0]
        elif dataclasses.is_dataclass(hint):
            hint = typing.get_type_hints(hint).get(part)
        else:
            return None
    return hint
