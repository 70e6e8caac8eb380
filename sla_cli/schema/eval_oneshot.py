"""conf/eval_oneshot.yaml: `sla eval oneshot`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sla_cli.schema.common import Common
from sla_cli.schema.fields import at_least, given, integer, one_of, section

MODES = ("auto", "builtin", "fonts", "dir")  # where the glyphs come from (sla_cli.eval.oneshot.glyph_sets)


@dataclass
class Oneshot:
    source_context: Any = integer(0, also="all", message="a context index >= 0 or all")
    glyphs: str = one_of(*MODES)
    classes: int | None = given()  # its upper bound depends on oneshot.glyphs: checked in the stage
    instances: int = at_least(2)
    typefaces: int = at_least(2)
    glyphs_dir: str | None = given()
    glyph_seeds: list[int] | None = given()  # distinct, non-empty: checked in the stage
    ablation_model_dir: str | None = given()
    # {name: folder or null}, or null; +oneshot.baseline_model_dirs.NAME=DIR adds one (names and folders: the stage)
    baseline_model_dirs: Any = given()
    chunk_contexts: int = at_least(1)


@dataclass
class EvalOneshot(Common):
    model_dir: str = given()  # ???: required (model_dir=DIR)
    oneshot: Oneshot = section(Oneshot)
