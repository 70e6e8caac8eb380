"""conf/eval_concept.yaml: `sla eval concept`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from data_gen import glyphs
from sla_cli.schema.common import Common
from sla_cli.schema.fields import at_least, given, integer, number, one_of, section

TERMS = ("recon", "full")  # the map's score (sla_cli.eval.concept.maps)
BLANK_RULES = ("blank_ratio", "plain")


@dataclass
class Candidates:  # lists: non-empty, no repeats, items in range (checked in the stage)
    blank_rules: list[str] = given()
    temperatures: list[Any] = given()
    peak_fractions: list[Any] = given()


@dataclass
class Concept:
    terms: str = one_of(*TERMS)
    density_digits: int = at_least(2)
    chunk: int = at_least(1)
    select_fraction: Any = number(0, 0.9, low_open=True)
    test_fraction: Any = number(0, 0.9, low_open=True)
    candidates: Candidates = section(Candidates)
    latent: int = at_least(1)
    hidden: int = at_least(1)
    steps: int = at_least(1)
    batch_size: int = at_least(1)
    lr: Any = number(0, low_open=True)
    restarts: int = at_least(1)
    texture_digits: list[int] = given()
    texture_glyphs: list[str] = given()
    texture_cubes: int = at_least(1)
    texture_digit: int = integer(0, 9)
    glyph: str = one_of(*glyphs.NAMES)
    source_context: int | None = at_least(0)
    far_apart_deg: Any = number(0, 90)
    figure_columns: int = at_least(1)


@dataclass
class EvalConcept(Common):
    model_dir: str = given()  # ???: required (model_dir=DIR)
    concept: Concept = section(Concept)
