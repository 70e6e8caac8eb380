"""conf/classify.yaml: `sla classify` (classify.density: sla density's settings, typed in schema/density.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sla_cli.schema.common import Common, Data, Run
from sla_cli.schema.fields import at_least, flag, given, integer, number, one_of, section

SIDES = ("val", "train")
RESUME = ("auto", False)  # sla_cli.classify.seed_checkpoints


@dataclass
class AeModel:
    hidden: int = at_least(1)
    latent: int = integer(1, 784)
    loss: str = one_of("bce", "mse")
    learn_sigma: bool = flag()


@dataclass
class Mlp:
    hidden: int = at_least(1)
    batch_size: int = at_least(1)


@dataclass
class MlpMatched:
    layers: int = integer(1, 4)
    batch_size: int = at_least(1)


@dataclass
class Train:
    epochs: int = at_least(1)
    min_steps: int = at_least(0)
    batch_size: int = at_least(1)
    lr: Any = number(0, low_open=True)


@dataclass
class Tune:  # the lists: non-empty, no repeats, items in range (checked in the stage)
    enabled: bool = flag()
    epochs: list[int] = given()
    dropout: list[Any] = given()
    weight_decay: list[Any] = given()


@dataclass
class Stats:
    bootstrap: int = integer(100, 1_000_000)


@dataclass
class Full:
    jitter: Any = number(0)
    batch: int = at_least(1)
    stats_per_class: int = at_least(10)
    sigma_from: str = one_of(*SIDES)
    density_from: str = one_of(*SIDES)


@dataclass
class Calibrate:
    steps: int = at_least(0)


@dataclass
class Ood:
    n: int = integer(2, 10000)
    extra: list[str] = given()


@dataclass
class Adversarial:
    n: int = integer(0, 10000)  # 0: no attacks (sweeps that only need accuracy)
    batch: int = at_least(1)
    eps: list[Any] = given()
    pgd_steps: int = at_least(1)
    restarts: int = at_least(1)
    scorings: list[str] = given()


@dataclass
class Classify:
    seeds: list[int] = given()
    val_size: int = integer(10, 30000)
    train_size: int | None = integer(100, 60000)
    train_per_class: int | None = integer(1, 6000)
    test_size: int | None = integer(10, 10000)
    weights_from: str | None = given()
    autoencoder: AeModel = section(AeModel)
    density_classifier: str = given()  # none or a density model of the registry: checked in the stage
    density: Any = given()  # sla density's settings (schema/density.py: ClassModels, typed when stored)
    mlp: Mlp = section(Mlp)
    mlp_matched: MlpMatched = section(MlpMatched)
    train: Train = section(Train)
    tune: Tune = section(Tune)
    stats: Stats = section(Stats)
    full: Full = section(Full)
    calibrate: Calibrate = section(Calibrate)
    ood: Ood = section(Ood)
    adversarial: Adversarial = section(Adversarial)


@dataclass
class ClassifyRun(Run):
    resume: Any = one_of(*RESUME)  # the seeds and models a killed run had finished: read back (auto) or trained again


@dataclass
class ClassifyConfig(Common):
    run: ClassifyRun = section(ClassifyRun)
    data: Data = section(Data)
    classify: Classify = section(Classify)
