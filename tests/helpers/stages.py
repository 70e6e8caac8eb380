"""Run a stage in this process, exactly as the CLI does after parsing (no interpreter start-up)."""

from __future__ import annotations

from pathlib import Path

# `sla classify` at its smallest that still trains every model and fills every table (seconds on a CPU);
# a test adds its seeds, epochs or grid
TINY_CLASSIFY = (
    "preset=smoke",
    "run.device=cpu",
    "classify.adversarial.n=0",
    "classify.test_size=100",
    "classify.train_size=300",
    "classify.val_size=100",
    "classify.ood.n=10",
    "classify.calibrate.steps=5",
    "classify.stats.bootstrap=100",
    "classify.full.stats_per_class=50",
)


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
