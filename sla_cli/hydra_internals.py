"""The only place sla touches Hydra's private modules (``hydra._internal``), which may change in
any release: pyproject.toml bounds hydra-core to the minor version tested, and
tests/test_hydra_internals.py fails first if these two stop working as used here."""

from __future__ import annotations

import argparse

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.utils import get_args_parser


def hydra_args_parser() -> argparse.ArgumentParser:
    """Hydra's own command-line parser (overrides, --cfg, -m, --help ...), to read argv as Hydra will."""
    return get_args_parser()


def sweep_jobs(parsed_overrides: list) -> list[list[str]]:
    """Each job's overrides of a ``-m`` sweep, as Hydra's basic sweeper would launch them."""
    return [job for batch in BasicSweeper.split_arguments(parsed_overrides, None) for job in batch]
