"""Run one subcommand as a Hydra app, with every user error reduced to one line.

Hydra reports bad overrides as several lines and a hint about stack traces. So before Hydra
launches, every job's config (each point of a `-m` sweep too) is composed with Hydra's compose
API and checked: the stage's ``validate``, its ``out`` folder (not a file, writable, not one of
its inputs) and ``run.device=cuda`` against the machine. A bad value fails before any work is done.
Faults that only show while a job runs -- a full disk, memory it cannot have, Ctrl-C or SIGTERM --
end in one line here, in one place for every stage.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.resources
import os
import re
import sys
import tempfile
from pathlib import Path

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hydra_plugins.sla_launchers.resuming import register as register_launchers
from sla_cli import interrupt, schema, tracking
from sla_cli.commands import RENAMED_KEYS, RENAMED_VALUES, Command
from sla_cli.config_checks import validate_common
from sla_cli.density import settings as density_settings
from sla_cli.errors import USER_ERRORS, ConfigError, DataError
from sla_cli.hydra_internals import hydra_args_parser, sweep_jobs
from sla_cli.schema.validate import type_error, validate


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
            raise ConfigError(f"bad override {override!r}: {one_line(str(e))}{_quote_hint(override)}") from None
    if not multirun:
        return [overrides]
    return sweep_jobs(parser.parse_overrides(overrides))


def _quote_hint(override: str) -> str:
    """Hydra's grammar stops at spaces before brackets, '=', non-ASCII letters...: quoting helps."""
    key, eq, val = override.partition("=")
    if not eq or not val or val[0] in "'\"[{":  # already quoted, or a list or dict
        return ""
    if not val.isascii() or re.search(r"[\s=()\[\]{}]", val):
        return f" (quote such a value for Hydra inside the shell's quotes: \"{key}='{val}'\")"
    return ""


def compose_config(cmd: Command, overrides: list[str], check_values: bool = True) -> DictConfig:
    """The job config as Hydra would build it, checked; raises ConfigError in one line."""
    density_settings.store(CONF_DIR)  # the density models' settings files, as Hydra config nodes
    schema.store(CONF_DIR)  # the commands' typed schemas, first in each primary config's defaults
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None, job_name=cmd.config_name):
            cfg = compose(cmd.config_name, overrides=overrides)
    except (hydra.errors.HydraException, OmegaConfBaseException, ValueError) as e:
        unknown = re.match(r"Could not override '([^']+)'\.\s+To append to your config use \+", str(e))
        if unknown:  # Hydra's hint (append with +) is the one thing not to do with a misspelt key
            raise ConfigError(unknown_key(cmd, unknown.group(1), overrides)) from None
        raise ConfigError(type_error(e, schema.schema_of(cmd.config_name)) or one_line(str(e))) from None
    for override in overrides:  # `+key=value` adds a key no config knows: refused like a misspelt key
        key = override.lstrip("+").split("=", 1)[0] if override.startswith("+") else None
        if key and key.rsplit(".", 1)[0] not in getattr(cmd, "open_sections", ()):
            raise ConfigError(unknown_key(cmd, key, [o for o in overrides if o != override]))
    if check_values:
        check_config(cmd, cfg)
    return cfg


def check_config(cmd: Command, cfg: DictConfig) -> None:
    """A composed config's values, as the stage checks them; a ConfigError line otherwise."""
    validate_common(cfg)
    validate(cfg, schema.schema_of(cmd.config_name))  # every key's range or choice (the types: at compose)
    importlib.import_module(cmd.module).validate(cfg)  # what depends on other keys
    missing = sorted(OmegaConf.missing_keys(cfg))  # ??? in the YAML: a value only the user can give
    if missing:
        value = "DIR" if missing[0].endswith("_dir") else "VALUE"
        raise ConfigError(f"{missing[0]}={value} is required (sla {cmd.name} --help shows the config)")


def unknown_key(cmd: Command, key: str, overrides: list[str]) -> str:
    """'unknown key K' with the nearest known keys, composed without the offending override."""
    import difflib

    from sla_cli.config_checks import leaves

    known: list[str] = []
    with contextlib.suppress(Exception):
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None, job_name=cmd.config_name):
            base = compose(
                cmd.config_name,
                overrides=[o for o in overrides if o.split("=", 1)[0].lstrip("+~") != key and not o.startswith("+")],
            )
        known = [k for k, _ in leaves(OmegaConf.to_container(base, resolve=False))]
    near = difflib.get_close_matches(key, known, n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    return f"unknown key {key}{hint}; `sla {cmd.name} --help` lists every key"


def precheck(cmd: Command, overrides: list[str], multirun: bool, check_values: bool = True) -> None:
    try:
        jobs = _job_overrides(overrides, multirun)
    except (hydra.errors.HydraException, OmegaConfBaseException, ValueError) as e:
        raise ConfigError(one_line(str(e))) from None
    cfgs = [compose_config(cmd, job, check_values) for job in jobs]
    if check_values:
        for cfg in cfgs:
            check_out(cfg.run.out)
        check_devices(cfgs)


def check_out(out: str) -> None:
    """``out`` can be a run folder: not a file, and creatable or writable (probed for real: root
    passes permission checks that /proc or a read-only mount still refuse)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"run.out={out} is a file, not a folder; choose another run.out=DIR")
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"run.out={out}: {probe} is a file, not a folder")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".sla-probe-", dir=probe))
    except OSError as e:
        raise ConfigError(
            f"run.out={out} cannot be written ({probe}: {e.strerror}); choose another run.out=DIR"
        ) from None


def check_devices(cfgs: list[DictConfig]) -> None:
    """run.device=cuda in any job of a sweep fails before the first job runs (torch only if asked)."""
    if any(cfg.run.device == "cuda" for cfg in cfgs):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError("run.device=cuda but no CUDA device is visible (use run.device=auto or run.device=cpu)")


def run_job(cmd: Command, cfg: DictConfig, out_dir: Path) -> None:
    """Run one composed, checked job in this process: the runtime settings, then the stage.
    The CLI and the tests both come through here."""
    from sla_cli import distributed, memory  # these import torch: only once a job really runs
    from sla_cli.runtime import configure, resolve_device

    configure(cfg.run.threads, cfg.run.precision, cfg.run.progress_every)
    memory.check(cmd.name, cfg, resolve_device(cfg.run.device))  # before anything is allocated or removed
    out_dir = distributed.setup(cfg.run.device, Path(out_dir))  # under torchrun, ranks > 0 write to a scratch copy
    tracking.configure(cfg.run.logger if distributed.rank() == 0 else "none", out_dir)
    try:
        importlib.import_module(cmd.module).run(cfg, out_dir)
    finally:
        tracking.close()


def _run_job(cmd: Command, cfg: DictConfig) -> None:
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        with interrupt.job(f"sla {cmd.name}"):
            run_job(cmd, cfg, out_dir)
    except USER_ERRORS as e:
        _remove_if_empty(out_dir)
        _fail(cmd, e)
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM as interrupt.Interrupted
        _remove_if_empty(out_dir)
        left = (
            "left incomplete (no manifest.json); the same command runs it again" if out_dir.is_dir() else "not written"
        )
        print(f"sla {cmd.name}: interrupted; {out_dir} {left}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", 130))
    except (MemoryError, OSError, RuntimeError) as e:
        error = _environment_error(e, out_dir)
        _remove_if_empty(out_dir)
        if error is None:
            raise  # a bug: keep its traceback
        _fail(cmd, error)
    except Exception:
        _remove_if_empty(out_dir)  # a bug: its traceback stays, an empty out does not
        raise


def _environment_error(e: BaseException, out_dir: Path) -> DataError | None:
    """The last resort for what the machine refused: memory (the estimate in sla_cli.memory should
    have caught it), a full disk, a file it cannot read or write. None for anything else."""
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e):
        return DataError(
            f"out of memory ({type(e).__name__}); use a smaller preset or lower the sizes "
            "(batch_size, hidden, render.chunk) or device_data_mb"
        )
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return DataError(
            f"no space left on the device of {out_dir} ({e.filename or 'writing'}); "
            "free space or choose another run.out=DIR"
        )
    if isinstance(e, OSError) and e.strerror:
        return DataError(f"{e.filename or out_dir}: {e.strerror}")
    return None


def _remove_if_empty(folder: Path) -> None:
    """Hydra makes the run folder (and a sweep's folder above it) before the job starts; leave no
    empty one behind a failure."""
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty
    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        sweep = Path(HydraConfig.get().sweep.dir)
        if sweep.is_dir() and [p.name for p in sweep.iterdir()] == ["multirun.yaml"]:  # no job got further
            (sweep / "multirun.yaml").unlink()
        with contextlib.suppress(OSError):
            sweep.rmdir()


def renamed_key(cmd: Command, key: str) -> str | None:
    """Today's spelling of ``key`` (``classify.model.hidden`` -> ``classify.autoencoder.hidden``), None if current."""
    for old, new in RENAMED_KEYS.get(cmd.name, {}).items():
        if key == old or key.startswith(f"{old}."):
            return new + key[len(old) :]
    return None


def renamed_overrides(cmd: Command, argv: list[str], noted: set[str] | None = None) -> list[str]:
    """argv with deprecated key spellings (``dataset=``) replaced by today's (``dataset_dir=``), and
    a renamed value with them (``classify.members=ae`` -> ``classify.density_classifier=none``); one
    note per old key (``noted``: the notes already given, when several stages read one override)."""
    out = []
    for arg in argv:
        key, eq, rest = arg.partition("=")
        sign = key[:1] if key[:1] in "+~" else ""
        new = renamed_key(cmd, key[len(sign) :]) if eq else None
        if new:
            values = RENAMED_VALUES.get(new, {})
            rest = ",".join(values.get(v, v) for v in rest.split(",")) if values else rest
            if noted is None or key not in noted:
                print(f"sla {cmd.name}: note: {key}= is now {sign}{new}= (the old name still works)", file=sys.stderr)
            if noted is not None:
                noted.add(key)
            arg = f"{sign}{new}={rest}"
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

    register_launchers()  # conf/hydra/launcher/{slurm,local}.yaml: sla's submitit launchers
    density_settings.store(CONF_DIR)
    schema.store(CONF_DIR)
    # Shell completion names the program by sys.argv[0]: the script completes `sla` (see __main__)
    sys.argv = ["sla" if args.shell_completion else f"sla {cmd.name}", *argv]
    app()
