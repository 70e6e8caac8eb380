"""Writes that appear whole or not at all: each goes to ``.NAME.tmp-PID`` and is renamed into place.

A full disk is one line naming the folder and the bytes needed (checked before a write whose size
is known, caught during any other); the partial temporary is removed either way. Temporaries of
processes that died mid-write (kill -9) are removed by the next run into the folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sla_cli.errors import DataError

TEMP = re.compile(r"^\..+\.tmp-(\d+)$")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def disk_full(final: Path, needed: int | None, written: int | None = None) -> DataError:
    free = _free_bytes(final.parent)
    need = f"{needed:,} bytes needed" if needed else f"more than the {written or 0:,} bytes written needed"
    return DataError(
        f"no space left in {final.parent} for {final.name}: {need}, "
        f"{'?' if free is None else f'{free:,}'} free (free some space or choose another run.out=DIR)"
    )


def _check_space(final: Path, size: int | None) -> None:
    free = _free_bytes(final.parent)
    if size is not None and free is not None and size > free:
        raise disk_full(final, size)


@contextlib.contextmanager
def atomic_path(final: Path, size: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds.
    ``size``: the bytes the file will take, when known, to refuse a write that cannot fit up front."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    _check_space(final, size)
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as e:
        if e.errno in DISK_FULL:
            raise disk_full(final, size, tmp.stat().st_size if tmp.exists() else None) from None
        raise
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text(path: Path, text: str) -> None:
    data = text.encode()
    with atomic_path(path, len(data)) as tmp:
        tmp.write_bytes(data)


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def save_npy(path: Path, array: np.ndarray) -> None:
    array = np.asanyarray(array)
    with atomic_path(path, array.nbytes + 4096) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def _tensor_bytes(obj: Any) -> int:
    """Bytes of the tensors in a (nested) state dict: about the size torch.save writes."""
    if hasattr(obj, "element_size") and hasattr(obj, "nelement"):
        return obj.element_size() * obj.nelement()
    if isinstance(obj, dict):
        return sum(_tensor_bytes(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_tensor_bytes(v) for v in obj)
    return 0


def save_torch(path: Path, obj: Any) -> None:
    """``torch.save`` to a temporary name, renamed into place when complete."""
    import torch  # the run-folder checks need no torch; only the stages that save tensors do

    path = Path(path)
    size = _tensor_bytes(obj)
    with atomic_path(path, size) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as e:  # torch's zip writer reports a full disk as a RuntimeError, not OSError
            free = _free_bytes(path.parent)
            if free is not None and free < max(size, 1 << 20):
                raise disk_full(path, size) from None
            raise DataError(f"could not write {path} ({str(e).splitlines()[0][:200]})") from None


def load_torch(path: Path, what: str = "checkpoint") -> Any:
    """``torch.load(weights_only=True)`` on CPU: plain tensors and containers only, never code.
    A truncated, foreign or malicious file is one DataError line."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle/zip errors come in many types; all mean an unusable file here
        raise DataError(f"{path} is not a readable {what} ({_load_failure(e)})") from None


def _load_failure(e: Exception) -> str:
    """Why torch.load refused a file, in a few words. torch's own text for a file holding pickled
    objects advises loading it with weights_only=False, which would run the code inside: never passed on."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    if "Weights only load failed" in text or "WeightsUnpickler" in text:
        found = re.search(r"Unsupported (global: GLOBAL [\w.]+|operand \d+)", text)
        return (
            "it holds pickled Python objects or code, not only tensors"
            f"{f': unsupported {found.group(1)}' if found else ''}; sla loads tensors only"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip() and "weights_only" not in line]
    return lines[0][:200] if lines else type(e).__name__


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``.NAME.tmp-PID`` files under ``folder`` whose process is gone (a kill mid-write).
    Called with the folder's lock held, so no live sla process is writing them."""
    removed = []
    for root, _, names in os.walk(folder):
        for name in names:
            m = TEMP.match(name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
                path = Path(root) / name
                with contextlib.suppress(OSError):
                    path.unlink()
                    removed.append(path)
    return removed
