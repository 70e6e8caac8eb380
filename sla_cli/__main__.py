"""`sla <subcommand> [key=value ...]`: dispatch to the subcommand's Hydra app (or, for a plain
command such as `sla report RUN_ROOT`, to its own argument parser)."""

from __future__ import annotations

from sla_cli import interrupt

interrupt.install()  # first of all: Ctrl-C or SIGTERM during the imports below is one line too

import importlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from sla_cli.commands import BY_NAME, COMMANDS, GROUPS, PLAIN_COMMANDS, PlainCommand  # noqa: E402

USAGE = "usage: sla <command> [key=value ...] [--help | --cfg job | -m]"
COMPLETION_FLAGS = ("-sc", "--shell-completion")


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("sla")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _help() -> str:
    width = max(len(c.name) for c in [*COMMANDS, *PLAIN_COMMANDS])
    lines = [USAGE, "", "Sets of autoencoders with shared latent spaces (Morzhakov, 2018).", "", "commands:"]
    lines += [f"  {c.name:<{width}}  {c.summary}" for c in [*COMMANDS, *PLAIN_COMMANDS]]
    lines += [
        "",
        "Every stage command takes preset=smoke|demo|paper seed=N run.device=auto|cpu|cuda run.out=DIR.",
        "`sla <command> --help` shows its config (for pipeline, report, aggregate and verify: their arguments);",
        "`-m key=a,b` sweeps; `sla <command> -sc install=bash` prints shell completion; `sla --version`.",
    ]
    return "\n".join(lines)


def _group_help(group: str) -> str:
    names = GROUPS[group]
    width = max(len(n) for n in names)
    lines = [f"usage: sla {group} <{'|'.join(n.split()[1] for n in names)}> [key=value ...]", "", "commands:"]
    return "\n".join(lines + [f"  {n:<{width}}  {BY_NAME[n].summary}" for n in names])


def split_command(argv: list[str]) -> tuple[str | None, list[str]]:
    """The longest command name that prefixes argv ("eval oneshot" before "eval"), and the rest."""
    for words in (2, 1):
        name = " ".join(argv[:words])
        if len(argv) >= words and name in BY_NAME:
            return name, argv[words:]
    return None, argv


def _complete(argv: list[str]) -> None:
    """Shell completion. The script (`sla train -sc install=bash`) completes `sla` itself; each query
    (`sla -sc query=bash`, the typed line in COMP_LINE) completes a command name, or goes to the
    Hydra app of the command the line names, with that command's words taken out of the line."""
    line = os.environ.get("COMP_LINE", "")
    words, new_word = line.split()[1:], line.endswith(" ")  # less `sla`
    done, partial = (words, "") if new_word else (words[:-1], words[-1] if words else "")
    name, rest = split_command(done)
    if name is not None and not isinstance(BY_NAME[name], PlainCommand):
        os.environ["COMP_LINE"] = " ".join(["sla", *rest]) + " " + partial
        from sla_cli.hydra_app import run_command

        run_command(BY_NAME[name], argv)
        return
    if not done:
        choices = {n.split()[0] for n in BY_NAME}
    elif done[0] in GROUPS and len(done) == 1:
        choices = {n.split()[1] for n in GROUPS[done[0]]}
    else:
        choices = set()
    print(" ".join(sorted(c for c in choices if c.startswith(partial))))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_help())
        return
    if argv[0] in ("-V", "--version"):
        print(f"sla {version()}")
        return
    if argv[0] in COMPLETION_FLAGS and len(argv) == 2 and argv[1].startswith("query="):
        _complete(argv)
        return
    name, rest = split_command(argv)
    if name is None and argv[0] in GROUPS and (len(argv) == 1 or argv[1] in ("-h", "--help")):
        print(_group_help(argv[0]))
        return
    if name is None:
        shown = " ".join(argv[:2]) if argv[0] in GROUPS else argv[0]
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
