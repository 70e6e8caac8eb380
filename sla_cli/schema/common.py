"""conf/common.yaml: the keys every subcommand takes (its values are there)."""

from __future__ import annotations

from dataclasses import dataclass

from sla_cli.config_checks import COMMAND_PRESETS, DEVICES, LOGGERS, PRESETS
from sla_cli.schema.fields import flag, given, integer, one_of, section


@dataclass
class DataPaths:
    root: str = given()  # a folder path (an interpolation of SLA_DATA_ROOT in the YAML)
    download: bool = flag()


@dataclass
class DataWithSource(DataPaths):
    """data: of the stages that read images (generate-cubes, classify, density)."""

    source: str = given()  # mnist | idx:DIR | folder:DIR, parsed by data_gen.sources in validate_common


@dataclass
class Common:
    seed: int = integer(0, 2**32 - 1)
    device: str = one_of(*DEVICES)
    threads: int = integer(0, 1024)
    precision: str = one_of("auto", "fp32", "bf16")
    overwrite: bool = flag()
    progress_every: int = integer(0)
    logger: str = one_of(*LOGGERS)
    data: DataPaths = section(DataPaths)
    out: str = given()
    preset: str = one_of(*PRESETS, *COMMAND_PRESETS)
