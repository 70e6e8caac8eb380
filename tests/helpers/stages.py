"""Run a stage in this process, exactly as the CLI does after parsing (no interpreter start-up)."""

from __future__ import annotations

from pathlib import Path


def compose(command: str, *overrides: str):
    """The job config of `sla COMMAND OVERRIDES`, composed and validated as the CLI does."""
    from sla_cli.commands import BY_NAME
    from sla_cli.hydra_app import compose_config

    return compose_config(BY_NAME[command], list(overrides))


def run_stage(command: str, *overrides: str, out: Path | None = None):
    """Run `sla COMMAND OVERRIDES` in-process into ``out`` (default: the config's out); returns the config."""
    from sla_cli.commands import BY_NAME
    from sla_cli.hydra_app import run_job

    cfg = compose(command, *overrides)
    run_job(BY_NAME[command], cfg, Path(out if out is not None else cfg.run.out))
    return cfg
