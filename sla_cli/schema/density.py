"""conf/density.yaml: `sla density`, and the density settings `sla classify` reuses as classify.density.

A model's own settings (``density.<name>.*``, conf/density/models/<name>.yaml) are typed by the
dataclass its module declares (``DensityModel.settings``, a subclass of ``ModelSettings``), checked
when the stage validates; at compose time they are a block per model file (``with_models``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING

from sla_cli.schema.common import Common, Data, Resumable
from sla_cli.schema.fields import at_least, given, integer, number, one_of, section

BINARIZATIONS = ("dynamic", "fixed")  # sla_cli.density.data
SCHEDULES = ("cosine", "constant", "iwae")  # sla_cli.density.loop


@dataclass
class Settings:
    """What a density model trains and tests with: sla density's, and classify.density's."""

    train_binarization: str = one_of(*BINARIZATIONS)
    test_seed: int = integer(0, 2**32 - 3)
    epochs: int | None = at_least(1)  # null: the model's own (density.<model>.epochs)
    batch_size: int = at_least(1)
    lr: Any = number(0, low_open=True)
    schedule: str = one_of(*SCHEDULES)
    adam_eps: Any = number(0, low_open=True)
    patience: int = at_least(0)
    eval_batch: int = at_least(1)
    iwae_k: int = at_least(1)
    iwae_chunk: int = at_least(1)


@dataclass
class Density(Settings):
    """The density stage's own keys besides (sla_cli.density.settings.STAGE_ONLY)."""

    model: str = given()  # a model of the registry: checked in the stage
    test_binarization: str = one_of(*BINARIZATIONS)
    val_size: int = integer(0, 59000)
    train_size: int | None = integer(10, 60000)
    test_size: int | None = integer(10, 10000)
    n_samples: int = at_least(1)


@dataclass
class ModelSettings:
    """The keys every model's settings file has; a model's ``settings`` dataclass adds its own."""

    epochs: int = at_least(1)


def widths() -> Any:
    """A list of layer widths (a model's ``hidden``)."""
    return given(kind="widths")


def with_models(base: type, models: list[str]) -> type:
    """``base`` with a block per model file (``density.made``...), typed at validate time by the model."""
    blocks = [(name, dict[str, Any], dataclasses.field(default=MISSING)) for name in models]
    return dataclasses.make_dataclass(f"{base.__name__}WithModels", blocks, bases=(base,))


@dataclass
class DensityConfig(Common):
    run: Resumable = section(Resumable)
    data: Data = section(Data)
    density: Density = section(Density)


def density_config(models: list[str]) -> type:
    """DensityConfig whose ``density`` holds a block per model file."""
    section_cls = with_models(Density, models)
    return dataclasses.make_dataclass(
        "DensityConfigWithModels", [("density", section_cls, section(section_cls))], bases=(DensityConfig,)
    )
