"""The low-data regime (issue 21), shown when RUN_ROOT holds a low_data/ folder: the run.out=DIR of an
`sla classify -m classify.train_per_class=10,30,...` sweep (bench/classify_low_data.py prints the
command). Each job's results.json is read through its manifest's sha256; the figure is drawn anew
from those numbers every time the report is built, so it cannot disagree with the table beside it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sla_cli.classify import low_data
from sla_cli.errors import DataError
from sla_cli.plotting import save_figure
from sla_cli.report.markdown import code, escape

FOLDER = "low_data"
FIGURE = "low_data.png"
TITLE = "### The low-data regime: the set against both MLPs as training images per class shrink (`sla classify -m`)"


def section(root: Path) -> list[str]:
    folder = Path(root) / FOLDER
    if not folder.is_dir():
        return []
    out = [TITLE, ""]
    if folder.is_symlink() or not folder.resolve().is_relative_to(Path(root).resolve()):
        return out + [f"*{FOLDER}/: not shown* (a link out of the run root: the report writes nothing outside it)", ""]
    try:
        rows = low_data.summarize(low_data.read_sweep(folder))
    except DataError as e:
        return out + [f"*{FOLDER}/: not shown* ({escape(e)})", ""]
    command = low_data.sweep_command(folder)
    out += [
        f"Made by: {code(command)}" if command else "Made by: unknown (the sweep's multirun.yaml is missing)",
        "",
        "Test accuracy %, mean ± sample std over seeds, for each number of training images per class:",
        "",
        *low_data.tables(rows, heading="####"),
    ]
    try:
        save_figure(low_data.figure(rows), folder / FIGURE, dpi=110)
    except OSError as e:  # a read-only sweep folder: the table stands alone
        return out + [f"*figure not written: {escape(e.strerror or e)}*", ""]
    caption = "test accuracy against training images per class, log axis, bands of one std over seeds"
    return out + [f"![{escape(caption)}]({quote(f'{FOLDER}/{FIGURE}')})", ""]
