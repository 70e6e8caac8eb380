"""conf/common.yaml: the keys every subcommand takes (its values are there).

``run:`` holds how a run is carried out, never what it computes (sla_cli/runfolder/experiment.py: a
run's identity is its config less ``run:``). Every command takes the keys of ``Run``; a command that
resumes or checkpoints declares the keys it reads besides (``TrainRun``, ``DensityRun``,
``ClassifyRun``), so a command never carries a key it would ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sla_cli.config_checks import COMMAND_PRESETS, DEVICES, LOGGERS, PRESETS
from sla_cli.schema.fields import at_least, flag, given, integer, one_of, section

RESUME = ("auto", True, False)


@dataclass
class Run:
    out: str = given()
    overwrite: bool = flag()
    device: str = one_of(*DEVICES)
    threads: int = integer(0, 1024)
    precision: str = one_of("auto", "fp32", "bf16")
    progress_every: int = integer(0)
    logger: str = one_of(*LOGGERS)
    # read by the commands that read MNIST (generate-cubes, classify, density, eval concept); every
    # command takes them, as it took data.root before run: existed, so one root can go to all
    data_root: str = given()  # a folder path (an interpolation of SLA_DATA_ROOT in the YAML)
    download: bool = flag()


@dataclass
class Resumable(Run):
    """run: of a command that checkpoints mid-run and continues from its last checkpoint."""

    resume: Any = one_of(*RESUME, message="auto, true or false")
    stop_after: int = at_least(0)  # >0: stop after this step (train) or epoch (density)
    keep_checkpoints: int = at_least(1)


@dataclass
class Data:
    """data: of the stages that read images (generate-cubes, classify, density)."""

    source: str = given()  # mnist | idx:DIR | folder:DIR, parsed by data_gen.sources in validate_common


@dataclass
class Common:
    seed: int = integer(0, 2**32 - 1)
    run: Run = section(Run)
    preset: str = one_of(*PRESETS, *COMMAND_PRESETS)
