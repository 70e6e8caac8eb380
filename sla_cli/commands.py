"""The subcommands: name, Hydra primary config, the module whose ``run(cfg, out_dir)`` does the work;
and the plain commands (no config, their own arguments), whose module's ``main(argv)`` returns the exit code.

Modules are imported only when their command runs, so ``sla --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str  # as typed after `sla`, e.g. "eval oneshot"
    config_name: str  # conf/<config_name>.yaml
    module: str  # defines validate(cfg) and run(cfg, out_dir)
    summary: str


COMMANDS = [
    Command("generate-cubes", "generate_cubes", "sla_cli.generate_cubes.stage",
            "render MNIST digits on cube faces in 100 contexts, with masks and rotating cubes"),
    Command("train", "train", "sla_cli.train.stage",
            "train one autoencoder per context, self- and cross-training into a shared latent space"),
    Command("classify", "classify", "sla_cli.classify.stage",
            "MNIST: a set of class autoencoders as a Bayes classifier, against an MLP"),
    Command("density", "density", "sla_cli.density.stage",
            "the autoencoder family as density models on binarized MNIST: DAE, MADE, VAE (IWAE)"),
    Command("eval oneshot", "eval_oneshot", "sla_cli.eval.oneshot.stage",
            "one-shot recognition of unseen glyphs in all contexts from one example"),
    Command("eval concept", "eval_concept", "sla_cli.eval.concept.stage",
            "context-likelihood maps and the second-level 'turning cube' autoencoder"),
]


@dataclass(frozen=True)
class PlainCommand:
    """A command that reads run folders and takes plain arguments (argparse, `--help`), not Hydra overrides."""

    name: str
    module: str  # defines main(argv: list[str]) -> int
    summary: str


PLAIN_COMMANDS = [
    PlainCommand("aggregate", "sla_cli.aggregate.cli",
                 "SWEEP_DIR/aggregate.md|json: mean +- std over seeds of every metric of a -m sweep's run folders"),
    PlainCommand("verify", "sla_cli.verify",
                 "check run folders against their manifest.json (every file's sha256)"),
]

BY_NAME = {c.name: c for c in [*COMMANDS, *PLAIN_COMMANDS]}

# Keys renamed so that a folder input always ends in _dir (`model` is an architecture in train and
# was a folder in eval). The old spelling keeps working, with a one-line note.
RENAMED_KEYS = {
    "train": {"dataset": "dataset_dir"},
    "eval oneshot": {"model": "model_dir"},
    "eval concept": {"model": "model_dir"},
}
