"""Run one subcommand as a Hydra app, with every user error reduced to one line.

Hydra reports bad overrides as several lines and a hint about stack traces. So before Hydra
launches, every job's config (each point of a `-m` sweep too) is composed with Hydra's compose
API and checked by the stage's ``validate``: a bad value fails before any work is done.
"""

from __future__ import annotations

import importlib
import importlib.resources
import re
import sys
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sla_cli.commands import RENAMED_KEYS, Command
from sla_cli.config_checks import validate_common
from sla_cli.errors import USER_ERRORS, ConfigError
from sla_cli.hydra_internals import hydra_args_parser, sweep_jobs



def conf_dir() -> Path:
    """The configs: ``conf/`` of the source checkout this code runs from, else the copy shipped
    inside the installed package (pyproject.toml maps conf/ to ``sla_cli/conf``)."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "conf" / "common.yaml").is_file():
        return checkout / "conf"
    return Path(str(importlib.resources.files("sla_cli") / "conf"))


CONF_DIR = conf_dir()
NO_CHECK_FLAGS = ("help", "hydra_help", "shell_completion", "info")


def one_line(message: str) -> str:
    """Hydra's multi-line messages as one line, without the search-path dump and trace hint."""
    message = message.split("Config search path")[0].split("Set the environment variable HYDRA_FULL_ERROR")[0]
    return re.sub(r"\s+", " ", message).strip()


def _fail(cmd: Command, error: Exception) -> None:
    print(f"sla {cmd.name}: error: {error}", file=sys.stderr)
    sys.exit(getattr(error, "exit_code", 1))


def _job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    parser = OverridesParser.create()
    for override in overrides:  # one at a time, so the message names the one that does not parse
        try:
            parser.parse_overrides([override])
        except hydra.errors.HydraException as e:
            raise ConfigError(f"bad override {override!r}: {one_line(str(e))}") from None
    if not multirun:
        return [overrides]
    return sweep_jobs(parser.parse_overrides(overrides))


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


def run_job(cmd: Command, cfg: DictConfig, out_dir: Path) -> None:
    """Run one composed, checked job in this process: the runtime settings, then the stage.
    The CLI and the tests both come through here."""
    from sla_cli.runtime import configure  # imports torch: only once a job really runs

    configure(cfg.threads, cfg.precision)
    importlib.import_module(cmd.module).run(cfg, Path(out_dir))


def _run_job(cmd: Command, cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        run_job(cmd, cfg, out_dir)
    except USER_ERRORS as e:
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


def renamed_overrides(cmd: Command, argv: list[str]) -> list[str]:
    """argv with deprecated key spellings (``dataset=``) replaced by today's (``dataset_dir=``)."""
    out = []
    for arg in argv:
        key, eq, rest = arg.partition("=")
        new = RENAMED_KEYS.get(cmd.name, {}).get(key) if eq else None
        if new:
            print(f"sla {cmd.name}: note: {key}= is now {new}= (the old name still works)", file=sys.stderr)
            arg = f"{new}={rest}"
        out.append(arg)
    return out


def run_command(cmd: Command, argv: list[str]) -> None:
    argv = renamed_overrides(cmd, argv)
    args = hydra_args_parser().parse_args(argv)
    if not any(getattr(args, flag) for flag in NO_CHECK_FLAGS):
        try:
            # --cfg only prints the config: it may still lack required values (dataset_dir=???)
            precheck(cmd, args.overrides, args.multirun, check_values=not args.cfg)
        except USER_ERRORS as e:
            _fail(cmd, e)

    @hydra.main(version_base=None, config_path=str(CONF_DIR), config_name=cmd.config_name)
    def app(cfg: DictConfig) -> None:
        _run_job(cmd, cfg)

    sys.argv = [f"sla {cmd.name}", *argv]
    app()
