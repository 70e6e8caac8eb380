"""`sla aggregate SWEEP_DIR`: a plain command (no Hydra config: it only reads run folders)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sla_cli.errors import DataError, SlaError

# Not sla_cli.runtime.console: that module imports torch, which this command never needs.
console = Console(stderr=True)
SHOWN_METRICS = 25  # the terminal table's rows; aggregate.md has them all


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, like every other sla user error
        print(f"sla aggregate: error: {message} (see sla aggregate --help)", file=sys.stderr)
        sys.exit(2)


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="sla aggregate",
        description="Read every run folder of an `sla <command> -m ...` sweep and "
        "write SWEEP_DIR/aggregate.md and aggregate.json: mean +- std over seeds of each metric, one group "
        "per experiment (runs whose configs are equal less the seed and the how-to-run keys). Incomplete "
        "folders are listed, not averaged; a corrupt one refuses the aggregate.",
    )
    p.add_argument("sweep_dir", metavar="SWEEP_DIR", help="the run.out=DIR of the sweep (one folder per job)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sla_cli.aggregate.collect import find_runs
    from sla_cli.aggregate.summarize import aggregate, cell, markdown

    sweep_dir = Path(args.sweep_dir)
    try:
        result = aggregate(sweep_dir, find_runs(sweep_dir))
        _write(sweep_dir, result, markdown(result))
    except SlaError as e:
        print(f"sla aggregate: error: {e}", file=sys.stderr)
        return e.exit_code
    _print(result, cell)
    console.print(
        f"wrote {escape(str(sweep_dir / 'aggregate.md'))} and aggregate.json "
        f"({result['n_complete']} complete runs, {len(result['incomplete'])} incomplete)"
    )
    return 0


def _write(sweep_dir: Path, result: dict, text: str) -> None:
    from sla_cli import runfolder

    for name in ("aggregate.json", "aggregate.md"):
        if (sweep_dir / name).is_dir():
            raise DataError(f"{sweep_dir / name} is a folder; remove it to write the aggregate")
    try:
        runfolder.write_json(sweep_dir / "aggregate.json", result)
        runfolder.write_text(sweep_dir / "aggregate.md", text)
    except OSError as e:
        raise DataError(f"cannot write the aggregate into {sweep_dir} ({e.strerror or e})") from None


def _print(result: dict, cell) -> None:
    groups = result["groups"]
    t = Table(title=f"sla aggregate: {escape(result['sweep_dir'])}")
    t.add_column("metric")
    for g in groups:  # labels and names hold config values: shown as text, never as rich markup
        t.add_column(f"{escape(g['label'])} (n={g['n']})", justify="right")
    names = list(dict.fromkeys(name for g in groups for name in g["metrics"]))
    for name in names[:SHOWN_METRICS]:
        t.add_row(escape(name), *(cell(g["metrics"].get(name)) for g in groups))
    if len(names) > SHOWN_METRICS:
        t.caption = f"{len(names) - SHOWN_METRICS} more metrics in aggregate.md"
    console.print(t)
    for i in result["incomplete"]:
        console.print(f"[yellow]incomplete, not averaged: {escape(i['folder'])}: {escape(i['reason'])}")
