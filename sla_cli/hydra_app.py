"""Run one subcommand as a Hydra app, with every user error reduced to one line.

Hydra reports bad overrides as several lines and a hint about stack traces. So before Hydra
launches, every job's config (each point of a `-m` sweep too) is composed with Hydra's compose
API and checked by the stage's ``validate``: a bad value fails before any work is done.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sla_cli.commands import Command
from sla_cli.config_checks import validate_common
from sla_cli.errors import ConfigError, SlaError

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
NO_CHECK_FLAGS = ("help", "hydra_help", "shell_completion", "info")


def one_line(message: str) -> str:
    """Hydra's multi-line messages as one line, without the search-path dump and trace hint."""
    message = message.split("Config search path")[0].split("Set the environment variable HYDRA_FULL_ERROR")[0]
    return re.sub(r"\s+", " ", message).strip()


def _fail(cmd: Command, error: SlaError) -> None:
    print(f"sla {cmd.name}: error: {error}", file=sys.stderr)
    sys.exit(error.exit_code)


def _job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    parser = OverridesParser.create()
    for override in overrides:  # one at a time, so the message names the one that does not parse
        try:
            parser.parse_overrides([override])
        except hydra.errors.HydraException as e:
            raise ConfigError(f"bad override {override!r}: {one_line(str(e))}") from None
    if not multirun:
        return [overrides]
    parsed = parser.parse_overrides(overrides)
    return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def compose_config(cmd: Command, overrides: list[str], check_values: bool = True) -> DictConfig:
    """The job config as Hydra would build it, checked; raises ConfigError in one line."""
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None, job_name=cmd.config_name):
            cfg = compose(cmd.config_name, overrides=overrides)
    except (hydra.errors.HydraException, OmegaConfBaseException, ValueError) as e:
        raise ConfigError(one_line(str(e))) from None
    if check_values:
        validate_common(cfg)
        importlib.import_module(cmd.module).validate(cfg)
    return cfg


def precheck(cmd: Command, overrides: list[str], multirun: bool, check_values: bool = True) -> None:
    try:
        jobs = _job_overrides(overrides, multirun)
    except (hydra.errors.HydraException, OmegaConfBaseException, ValueError) as e:
        raise ConfigError(one_line(str(e))) from None
    for job in jobs:
        compose_config(cmd, job, check_values)


def _run_job(cmd: Command, cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        from sla_cli.runtime import set_cpu_threads  # imports torch: only once a job really runs

        set_cpu_threads(cfg.threads)
        importlib.import_module(cmd.module).run(cfg, out_dir)
    except SlaError as e:
        _remove_if_empty(out_dir)
        _fail(cmd, e)
    except KeyboardInterrupt:
        print(f"sla {cmd.name}: interrupted; {out_dir} has no manifest.json and is incomplete", file=sys.stderr)
        sys.exit(130)


def _remove_if_empty(folder: Path) -> None:
    """Hydra makes the run folder before the job starts; leave no empty one behind a failure."""
    try:
        folder.rmdir()
    except OSError:
        pass


def run_command(cmd: Command, argv: list[str]) -> None:
    args = get_args_parser().parse_args(argv)
    if not any(getattr(args, flag) for flag in NO_CHECK_FLAGS):
        try:
            # --cfg only prints the config: it may still lack required values (dataset=???)
            precheck(cmd, args.overrides, args.multirun, check_values=not args.cfg)
        except SlaError as e:
            _fail(cmd, e)

    @hydra.main(version_base=None, config_path=str(CONF_DIR), config_name=cmd.config_name)
    def app(cfg: DictConfig) -> None:
        _run_job(cmd, cfg)

    sys.argv = [f"sla {cmd.name}", *argv]
    app()
