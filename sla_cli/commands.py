"""The command table: the stage commands (from the stage registry, ``sla_cli.pipeline.registry``) and
the plain commands (no config, their own arguments), whose module's ``main(argv)`` returns the exit code.

Modules are imported only when their command runs, so ``sla --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from sla_cli.pipeline.registry import STAGES, Stage

Command = Stage  # a stage command: name, Hydra primary config, the module whose run(cfg, out_dir) works
COMMANDS = list(STAGES)


@dataclass(frozen=True)
class PlainCommand:
    """A command that reads run folders and takes plain arguments (argparse, `--help`), not Hydra overrides."""

    name: str
    module: str  # defines main(argv: list[str]) -> int
    summary: str


PLAIN_COMMANDS = [
    PlainCommand(
        "pipeline",
        "sla_cli.pipeline.cli",
        "the whole paper in one command: every stage into OUT/<stage>, checked first, then OUT/report.md",
    ),
    PlainCommand(
        "report",
        "sla_cli.report.cli",
        "RUN_ROOT/report.md from the pipeline's run folders: paper vs ours, the runs, every figure",
    ),
    PlainCommand(
        "aggregate",
        "sla_cli.aggregate.cli",
        "SWEEP_DIR/aggregate.md|json: mean +- std over seeds of every metric of a -m sweep's run folders",
    ),
    PlainCommand("verify", "sla_cli.verify", "check run folders against their manifest.json (every file's sha256)"),
]

BY_NAME = {c.name: c for c in [*COMMANDS, *PLAIN_COMMANDS]}
GROUPS = {"eval": [c.name for c in COMMANDS if c.name.startswith("eval ")]}  # `sla eval` lists these

# Keys renamed so that a folder input always ends in _dir (`model` is an architecture in train and
# was a folder in eval). The old spelling keeps working, with a one-line note.
RENAMED_KEYS = {
    "train": {"dataset": "dataset_dir"},
    "eval oneshot": {"model": "model_dir"},
    "eval concept": {"model": "model_dir"},
}
