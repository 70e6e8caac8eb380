"""`sla <subcommand> [key=value ...]`: dispatch to the subcommand's Hydra app (or, for a plain
command such as `sla report RUN_ROOT`, to its own argument parser)."""

from __future__ import annotations

from sla_cli import interrupt

interrupt.install()  # first of all: Ctrl-C or SIGTERM during the imports below is one line too

import importlib  # noqa: E402
import sys  # noqa: E402

from sla_cli.commands import BY_NAME, COMMANDS, PLAIN_COMMANDS, PlainCommand  # noqa: E402

USAGE = "usage: sla <command> [key=value ...] [--help | --cfg job | -m]"


def _help() -> str:
    width = max(len(c.name) for c in [*COMMANDS, *PLAIN_COMMANDS])
    lines = [USAGE, "", "Sets of autoencoders with shared latent spaces (Morzhakov, 2018).", "", "commands:"]
    lines += [f"  {c.name:<{width}}  {c.summary}" for c in [*COMMANDS, *PLAIN_COMMANDS]]
    lines += ["", "Every stage command takes preset=smoke|demo|paper seed=N device=auto|cpu|cuda out=DIR.",
              "`sla <command> --help` shows its config (for report, aggregate and verify: their arguments);",
              "`-m key=a,b` sweeps."]
    return "\n".join(lines)


def split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """The longest command name that prefixes argv ("eval oneshot" before "eval"), and the rest."""
    for words in (2, 1):
        name = " ".join(argv[:words])
        if len(argv) >= words and name in BY_NAME:
            return name, argv[words:]
    return None, argv


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_help())
        return
    name, rest = split_command(argv)
    if name is None:
        shown = " ".join(argv[:2]) if argv[0] == "eval" else argv[0]
        known = ", ".join(BY_NAME)
        print(f"sla: unknown command {shown!r} (known: {known})", file=sys.stderr)
        sys.exit(2)
    cmd = BY_NAME[name]
    if isinstance(cmd, PlainCommand):
        sys.exit(importlib.import_module(cmd.module).main(rest))
    from sla_cli.hydra_app import run_command  # imports Hydra; kept out of `sla --help`

    run_command(cmd, rest)


if __name__ == "__main__":
    main()
