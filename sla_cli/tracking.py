"""``run.logger=tensorboard``: each run's scalars (the training log's rows, the numbers of its JSON files)
and figures also go to TensorBoard event files, beside the run folders: ``<out>/../tb/<run name>``
(for `sla pipeline run.out=OUT`: OUT/tb/model, OUT/tb/classify, ...; ``tensorboard --logdir OUT/tb``).

Off by default (``run.logger=none``). TensorBoard is an optional extra (``pip install -e '.[tensorboard]'``):
it is imported only when asked for, and asking without it is one line before any work. The CSV and
JSON files of a run folder stay the record; the event files are a view of them, not listed in any
manifest.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sla_cli.errors import ConfigError
from sla_cli.values import is_plottable

FOLDER = "tb"
_state: dict[str, Any] = {"writer": None}


def check_available(logger: str) -> None:
    if logger == "tensorboard" and importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(
            "run.logger=tensorboard needs the tensorboard package, which is not installed: "
            "pip install -e '.[tensorboard]' (or run.logger=none)"
        )


def log_dir(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    return out_dir.parent / FOLDER / out_dir.name


def configure(logger: str, out_dir: Path) -> None:
    """Start (or, with run.logger=none, stop) writing events for the run in ``out_dir``."""
    close()
    if logger != "tensorboard":
        return
    check_available(logger)
    from torch.utils.tensorboard import SummaryWriter

    _state["writer"] = SummaryWriter(log_dir=str(log_dir(out_dir)))


def active() -> bool:
    return _state["writer"] is not None


def row(label: str | None, row: dict) -> None:
    """One row of a training log (``{"step": ..., "self_loss": ..., ...}``) as scalars at its step."""
    writer = _state["writer"]
    if writer is None:
        return
    step = int(row.get("step", 0))
    for key, value in row.items():
        if key != "step" and is_plottable(value):
            writer.add_scalar(f"{label or 'train'}/{key}", float(value), step)


def numbers(prefix: str, obj: Any) -> None:
    """Every number of a JSON object (a run's metrics) as a scalar at step 0, named by its path."""
    writer = _state["writer"]
    if writer is None:
        return
    for key, value in _flat(obj, prefix):
        writer.add_scalar(key, float(value), 0)


def figure(tag: str, fig) -> None:
    writer = _state["writer"]
    if writer is not None:
        writer.add_figure(tag, fig, global_step=0, close=False)


def close() -> None:
    writer = _state["writer"]
    _state["writer"] = None
    if writer is not None:
        writer.close()


def _flat(obj: Any, prefix: str):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flat(v, f"{prefix}/{k}")
    elif is_plottable(obj):
        yield prefix, obj
