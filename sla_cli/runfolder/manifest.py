"""``manifest.json``: written last, so a folder without one is incomplete. It holds the kind, the
resolved config, the run's identity and the sha256 of every file (``config.yaml`` among them).

Readers get a manifest only after its shape is checked (a hand-edited one of the wrong shape is
one line, not a traceback), and files only after their hash is (large ones streamed, with a
progress bar once hashing has taken a second).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, cast

from omegaconf import DictConfig, OmegaConf

from sla_cli.errors import DataError
from sla_cli.runfolder.atomic import write_json
from sla_cli.runfolder.experiment import RUN, identity, without_invocation_keys

MANIFEST = "manifest.json"
CONFIG = "config.yaml"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
BLOCK = 1 << 24


def sha256(path: Path, chunk: int = BLOCK) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def config_dict(cfg: DictConfig, out_dir: Path) -> dict:
    """The resolved config as plain data, as a run records it: ``run.out`` set to the folder actually
    written, less the keys of one invocation (run.resume, run.stop_after)."""
    data = cast(dict, OmegaConf.to_container(cfg, resolve=True))
    data.setdefault(RUN, {})["out"] = str(out_dir)
    return without_invocation_keys(data)


def finish(out_dir: Path, kind: str, cfg: DictConfig, files: list[str], **extra: Any) -> dict:
    """Write manifest.json last: kind, config, identity, sha256 of each listed file (and of
    config.yaml when the folder has one), and extras."""
    out_dir = Path(out_dir)
    config = config_dict(cfg, out_dir)
    names = list(files) + ([CONFIG] if (out_dir / CONFIG).exists() and CONFIG not in files else [])
    manifest = {
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "identity": identity(config),
        "seed": config.get("seed"),
        **extra,
        "config": config,
        "sha256": {name: sha256(out_dir / name) for name in names},
    }
    write_json(out_dir / MANIFEST, manifest)
    return manifest


def _shape_problem(m: Any) -> str | None:
    if not isinstance(m, dict):
        return f"a JSON {type(m).__name__}, not an object"
    for key, kind in (("kind", str), ("identity", str), ("config", dict), ("sha256", dict)):
        if not isinstance(m.get(key), kind):
            return f"`{key}` is {'missing' if key not in m else type(m[key]).__name__}, expected {kind.__name__}"
    for name, digest in m["sha256"].items():
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or not parts:
            return f"file name {name!r} leaves the folder"
        if not isinstance(digest, str) or not HEX64.match(digest):
            return f"the sha256 of {name!r} is not 64 hex digits"
    if "dataset" in m and not isinstance(m["dataset"], dict):
        return "`dataset` is not an object"
    return None


def load_manifest(path: Path) -> dict:
    """A manifest.json of the right shape, or one DataError line."""
    try:
        manifest = json.loads(Path(path).read_text())
    except PermissionError:
        raise DataError(f"{path} cannot be read (permission denied)") from None
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is unreadable or corrupt ({e})") from None
    problem = _shape_problem(manifest)
    if problem:
        raise DataError(f"{path} is not an sla manifest ({problem}): hand-edited or corrupt")
    return manifest


def leaves(folder: str | Path, name: str) -> str | None:
    """Where ``folder/name`` really lies when a symbolic link on the way takes it out of ``folder``; else None."""
    root, real = os.path.realpath(folder), os.path.realpath(Path(folder) / name)
    return None if os.path.commonpath([root, real]) == root else real


def inside(folder: str | Path, name: str) -> Path:
    """``folder/name`` after checking that it stays inside ``folder`` once every symbolic link on
    the way is resolved; a manifest's names are read, written and removed only there."""
    real = leaves(folder, name)
    if real is not None:
        raise DataError(
            f"{Path(folder) / name} leads outside {folder} through a symbolic link (to {real}); "
            "sla reads, writes and removes only files inside a run folder"
        )
    return Path(folder) / name


def read_manifest(folder: str | Path, kind: str | None) -> dict:
    """The manifest of a complete run folder of the given kind (None: any), or a one-line DataError."""
    folder = Path(folder)
    what = f"an sla {kind}" if kind else "an sla run"
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder (expected {what} folder)")
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist (expected {what} folder)")
    path = folder / MANIFEST
    if not path.exists():
        raise DataError(
            f"{folder} has no manifest.json: it is incomplete (its run died or is still running) or not {what} folder"
        )
    manifest = load_manifest(path)
    if kind is not None and manifest["kind"] != kind:
        raise DataError(f"{folder} holds an sla {manifest['kind']} run, not a {kind}")
    return manifest


def verify_file(folder: Path, manifest: dict, name: str) -> Path:
    """Path of a listed file after checking its sha256 against the manifest (catches corruption)."""
    verify_files(folder, manifest, [name])
    return Path(folder) / name


def read_json_object(folder: Path, manifest: dict, name: str) -> dict:
    """A listed JSON file's object, after its sha256: unreadable JSON, or JSON that is not an object
    (a rehashed hand edit), is one line."""
    path = verify_file(folder, manifest, name)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is not valid JSON ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return data


def verify_files(folder: Path, manifest: dict, names: Iterable[str] | None = None, label: str = "verifying") -> None:
    """Check the sha256 of ``names`` (default: every listed file) in one streaming pass; a progress
    bar appears when it takes more than a second. A missing, unlisted, unreadable or changed file,
    or one behind a link out of the folder, is one line."""
    folder = Path(folder)
    listed = manifest.get("sha256", {})
    names = list(listed if names is None else names)
    for name in names:  # a file the manifest does not list has no hash to check: never read unchecked
        if name not in listed:
            raise DataError(f"{folder / name} is not listed in {folder / MANIFEST}: no sha256 to check it against")
    paths = [inside(folder, n) for n in names]
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path} is missing (listed in manifest.json)")
    total, done, start, bar = sum(p.stat().st_size for p in paths), 0, time.perf_counter(), None
    try:
        for name, path in zip(names, paths, strict=True):
            h = hashlib.sha256()
            try:
                with open(path, "rb") as f:
                    while block := f.read(BLOCK):
                        h.update(block)
                        done += len(block)
                        if bar is None and time.perf_counter() - start > 1.0:
                            bar, task = _bytes_bar(f"{label} {folder.name}", total)
                        if bar is not None:
                            bar.update(task, completed=done)
            except PermissionError:
                raise DataError(f"{path} cannot be read (permission denied)") from None
            except OSError as e:
                raise DataError(f"{path} cannot be read ({e.strerror})") from None
            if h.hexdigest() != listed[name]:
                raise DataError(f"{path} does not match its sha256 in manifest.json (corrupt or changed)")
    finally:
        if bar is not None:
            bar.stop()


def _bytes_bar(description: str, total: int):
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from sla_cli.console import console

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    bar.start()
    return bar, bar.add_task(description, total=total)
