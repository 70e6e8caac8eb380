"""conf/generate_cubes.yaml: `sla generate-cubes`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sla_cli.schema.common import Common, Data
from sla_cli.schema.fields import at_least, given, integer, number, one_of, section

BACKENDS = ("auto", "sparse", "grid_sample")


@dataclass
class Digits:
    train: int = given()  # 1..MNIST's count for data.source=mnist (checked in the stage: it depends on the source)
    test: int = given()


@dataclass
class Render:
    size: int = integer(8, 512)
    supersample: int = integer(1, 8)
    backend: str = one_of(*BACKENDS)
    chunk: int = at_least(1)


@dataclass
class Camera:
    elevation_deg: Any = number(1, 89)
    distance: Any = number(1.0, low_open=True)
    fov_deg: Any = number(1, 170)


@dataclass
class Contexts:
    n_side: int = integer(1, 1000)
    n_top: int = integer(1, 1000)


@dataclass
class Cubes:
    count: int = at_least(1)
    digit: int = integer(0, 9)
    compare_digit: int | None = integer(0, 9)
    split: str = one_of("train", "test")


@dataclass
class GenerateCubes(Common):
    data: Data = section(Data)
    digits: Digits = section(Digits)
    render: Render = section(Render)
    camera: Camera = section(Camera)
    contexts: Contexts = section(Contexts)
    cubes: Cubes = section(Cubes)
