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

# Keys renamed so that a name says one thing: a folder input always ends in _dir (`model` is an
# architecture in train and was a folder in eval); classify's `members`/`member` (the density family
# beside the set, and its settings) and `model` (the autoencoders' shape, one of three models there);
# train's `eval:` (its held-out measures, not `sla eval`); and every how-to-run key into the `run:` block
# (conf/common.yaml), so that a run's identity is its config less `run:`. The old spelling keeps working,
# with a one-line note; a key renamed with its sub-keys (classify.model.hidden) follows its parent. Run
# identities hash the old spellings (runfolder/experiment.py OLD_SPELLINGS, OLD_HOW_TO_RUN): a rename
# changes no run.
RUN_KEYS = {
    "out": "run.out",
    "overwrite": "run.overwrite",
    "device": "run.device",
    "threads": "run.threads",
    "precision": "run.precision",
    "progress_every": "run.progress_every",
    "logger": "run.logger",
    "data.root": "run.data_root",
    "data.download": "run.download",
}  # every stage command's, and `sla pipeline`'s own
# Each stage's section's how-to-run leaves, into run: (only the commands that have them).
STAGE_RUN_KEYS = {
    "train": ("resume", "stop_after", "keep_checkpoints", "checkpoint_every", "log_every"),
    "density": ("resume", "stop_after", "keep_checkpoints"),
    "classify": ("resume",),
}
RENAMED_KEYS = {
    "train": {"dataset": "dataset_dir", "eval": "metrics"},
    "eval oneshot": {"model": "model_dir"},
    "eval concept": {"model": "model_dir"},
    "classify": {
        "classify.members": "classify.density_classifier",
        "classify.member": "classify.density",
        "density_settings@classify.member": "density_settings@classify.density",
        "classify.model": "classify.autoencoder",
    },
}
for _stage in STAGES:
    RENAMED_KEYS.setdefault(_stage.name, {}).update(RUN_KEYS)
    for _leaf in STAGE_RUN_KEYS.get(_stage.name, ()):
        RENAMED_KEYS[_stage.name][f"{_stage.name}.{_leaf}"] = f"run.{_leaf}"
# Values renamed with their key: classify.members=ae (the set alone) is classify.density_classifier=none.
RENAMED_VALUES = {"classify.density_classifier": {"ae": "none"}}
