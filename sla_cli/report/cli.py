"""`sla report RUN_ROOT`: a plain command (no Hydra config: it only reads run folders)."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sla_cli.errors import SlaError

# Not sla_cli.runtime.console: that module imports torch, which this command never needs.
console = Console(stderr=True)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, like every other sla user error
        print(f"sla report: error: {message} (see sla report --help)", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sla report",
        description="Build RUN_ROOT/report.md (paper vs ours, the runs, the figures) "
        "from the run folders' JSON alone: RUN_ROOT/<stage> for every stage of `sla pipeline`. A stage "
        "that is missing or did not complete is reported as such, with why (from RUN_ROOT/pipeline.json, "
        "when `sla pipeline` wrote it: refused, failed, interrupted, not run).",
    )
    p.add_argument("run_root", metavar="RUN_ROOT", help="the OUT folder of `make demo` or `make reproduce-paper`")
    p.add_argument(
        "--made-by",
        metavar="COMMAND",
        default=None,
        help="the command that made the runs, recorded under 'How this was made' (the Makefile passes it)",
    )
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sla_cli.report.build import build  # after argument parsing: `--help` stays instant

    try:
        path, stages = build(args.run_root, args.made_by)
    except SlaError as e:
        print(f"sla report: error: {e}", file=sys.stderr)
        return e.exit_code
    print_stages(path, stages)
    return 0


def print_stages(path, stages: dict) -> None:
    """Each stage's status, and for one that did not complete, why (`sla pipeline` prints it too)."""
    t = Table(title=f"sla report: {escape(str(path))}")
    t.add_column("stage")
    t.add_column("status")
    for name, s in stages.items():  # a reason names paths and files: text, never rich markup
        t.add_row(f"{name}/", s.status if s.complete else f"[yellow]{s.status}[/]: {escape(s.reason)}")
    console.print(t)
