"""conf/train.yaml: `sla train`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sla_cli.schema.common import Common, Resumable
from sla_cli.schema.fields import at_least, flag, given, integer, number, one_of, section

VARIANTS = ("set", "shared_ae", "contrastive")  # sla_cli.models.variants builds each


@dataclass
class Model:
    hidden: int = at_least(1)
    latent: int = at_least(1)
    tied: bool = flag()
    learn_sigma: bool = flag()


@dataclass
class TrainRun(Resumable):
    log_every: int = at_least(1)
    checkpoint_every: int = at_least(1)


@dataclass
class Train:
    variant: str = one_of(*VARIANTS)
    temperature: Any = number(0, low_open=True)
    steps: int = at_least(1)
    batch_size: int = at_least(1)
    lr: Any = number(0, low_open=True)
    schedule: str = one_of("alternate", "mixed")
    self_steps: int = at_least(0)
    cross_steps: int = at_least(0)
    cross_weight: Any = number(0)
    views_per_digit: int | None = at_least(1)
    device_data_mb: Any = number(0, also="auto")  # auto, or megabytes


@dataclass
class Metrics:
    test_digits: int = at_least(1)
    latent_digits: int = at_least(2)
    transfer_source: int = at_least(0)
    transfer_digits: int = integer(1, 10)


@dataclass
class TrainConfig(Common):
    run: TrainRun = section(TrainRun)
    dataset_dir: str = given()  # ???: required (dataset_dir=DIR)
    model: Model = section(Model)
    train: Train = section(Train)
    metrics: Metrics = section(Metrics)
