"""Run folders: the one owner of every file a stage writes.

A stage opens ``with Run(out_dir, kind, cfg) as run:``, saves through ``run.save_*`` (each write
atomic and recorded) and ``manifest.json`` -- kind, config, identity and the sha256 of every saved
file -- is written when the block exits cleanly. A folder without ``manifest.json`` is incomplete
(its run died or is still going) and every reader refuses it. A folder that holds another run is
never written into unless overwrite=true.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sla_cli.errors import DataError

MANIFEST = "manifest.json"
CONFIG = "config.yaml"


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: Path, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, array)


def sha256(path: Path, chunk: int = 1 << 24) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def config_dict(cfg: DictConfig, out_dir: Path) -> dict:
    """The resolved config as plain data, with ``out`` set to the folder actually written."""
    data = OmegaConf.to_container(cfg, resolve=True)
    data["out"] = str(out_dir)
    return data


def identity(config: dict) -> str:
    """Hash of what determines a run's content: the config less where it goes, whether to overwrite,
    and the hardware it runs on."""
    relevant = {k: v for k, v in config.items() if k not in ("out", "overwrite", "device", "threads")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def begin(out_dir: Path, kind: str, cfg: DictConfig) -> dict | None:
    """Check the out folder before any work; save config.yaml. Returns the existing manifest when
    the same run is already complete there (nothing to do), else None.

    Refused unless overwrite=true: a folder holding a complete run of another kind or config, or
    files that are not from an sla run of this kind.
    """
    out_dir = Path(out_dir)
    config = config_dict(cfg, out_dir)
    overwrite = bool(cfg.get("overwrite", False))
    manifest_path = out_dir / MANIFEST
    if manifest_path.exists() and not overwrite:
        old = _load_json(manifest_path)
        if old.get("kind") == kind and old.get("identity") == identity(config):
            return old
        raise DataError(
            f"{out_dir} already holds a different {old.get('kind', 'run')} (manifest.json); "
            "choose another out=DIR or pass overwrite=true"
        )
    if not overwrite and not manifest_path.exists() and _holds_foreign_files(out_dir, kind):
        raise DataError(f"{out_dir} is not empty and holds no sla {kind} run; choose another out=DIR or pass overwrite=true")
    out_dir.mkdir(parents=True, exist_ok=True)
    if manifest_path.exists():  # overwrite=true: the old run stops being valid before anything changes
        manifest_path.unlink()
    write_text(out_dir / CONFIG, f"# sla {kind} run\n" + OmegaConf.to_yaml(OmegaConf.create(config)))
    return None


def _holds_foreign_files(out_dir: Path, kind: str) -> bool:
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return False
    config_path = out_dir / CONFIG
    return not (config_path.exists() and config_path.read_text().startswith(f"# sla {kind} run"))


def finish(out_dir: Path, kind: str, cfg: DictConfig, files: list[str], **extra: Any) -> dict:
    """Write manifest.json last: kind, config, identity, sha256 of each listed file, and extras."""
    out_dir = Path(out_dir)
    config = config_dict(cfg, out_dir)
    manifest = {
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "identity": identity(config),
        "seed": config.get("seed"),
        **extra,
        "config": config,
        "sha256": {name: sha256(out_dir / name) for name in files},
    }
    write_json(out_dir / MANIFEST, manifest)
    return manifest


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise DataError(f"{path} is unreadable or corrupt ({e})") from None


def read_manifest(folder: str | Path, kind: str) -> dict:
    """The manifest of a complete run folder of the given kind, or a one-line DataError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist (expected an sla {kind} folder)")
    path = folder / MANIFEST
    if not path.exists():
        raise DataError(f"{folder} has no manifest.json: it is incomplete (its run died or is still running) or not an sla {kind} folder")
    manifest = _load_json(path)
    if manifest.get("kind") != kind:
        raise DataError(f"{folder} holds an sla {manifest.get('kind', 'unknown')} run, not a {kind}")
    return manifest


def verify_file(folder: Path, manifest: dict, name: str) -> Path:
    """Path of a listed file after checking its sha256 against the manifest (catches corruption)."""
    path = Path(folder) / name
    expected = manifest.get("sha256", {}).get(name)
    if not path.exists():
        raise DataError(f"{path} is missing (listed in manifest.json)")
    if expected is not None and sha256(path) != expected:
        raise DataError(f"{path} does not match its sha256 in manifest.json (corrupt or changed)")
    return path


def save_torch(path: Path, obj: Any) -> None:
    """``torch.save`` to a temporary name, renamed into place when complete."""
    import torch  # the run-folder checks need no torch; only the stages that save tensors do

    with atomic_path(Path(path)) as tmp:
        torch.save(obj, tmp)


def load_torch(path: Path, what: str = "checkpoint") -> Any:
    """``torch.load(weights_only=True)`` on CPU: plain tensors and containers only, never code.
    A truncated, foreign or malicious file is one DataError line."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle/zip errors come in many types; all mean an unusable file here
        detail = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise DataError(f"{path} is not a readable {what} ({detail})") from None


class Run:
    """One stage's run folder: ``with Run(out_dir, kind, cfg) as run:``.

    On entry the folder is checked (refusals are one-line DataErrors) and ``config.yaml`` is saved;
    ``run.complete`` is True when the same run is already complete there, and the stage returns.
    Inside, every file goes through ``run.save_*``: atomic, and recorded for the manifest, so a
    stage cannot forget to hash a file. ``manifest.json`` is written on a clean exit only, unless
    the stage called ``run.leave_incomplete()`` (a run stopped early on purpose, to resume later).
    """

    def __init__(self, out_dir: str | Path, kind: str, cfg: DictConfig):
        self.out_dir, self.kind, self.cfg = Path(out_dir), kind, cfg
        self.files: list[str] = []
        self.extra: dict[str, Any] = {}
        self.complete = False
        self.manifest: dict | None = None
        self._incomplete = False

    def __enter__(self) -> "Run":
        existing = begin(self.out_dir, self.kind, self.cfg)
        if existing is not None:
            self.complete, self.manifest = True, existing
            from sla_cli.runtime import console

            console.print(f"{self.out_dir} already holds this {self.kind} run (manifest.json); nothing to do")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None and not self.complete and not self._incomplete:
            self.manifest = finish(self.out_dir, self.kind, self.cfg, self.files, **self.extra)
        return False

    def path(self, name: str) -> Path:
        """Where ``name`` lies in the folder (sub-folders are made); recorded for the manifest."""
        path = self.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name not in self.files:
            self.files.append(name)
        return path

    def describe(self, **fields: Any) -> None:
        """Extra fields for manifest.json (shapes, device, counts) that readers check."""
        self.extra.update(fields)

    def leave_incomplete(self) -> None:
        """End this run without a manifest: the folder stays incomplete (e.g. train.stop_after)."""
        self._incomplete = True

    def save_text(self, name: str, text: str) -> Path:
        write_text(path := self.path(name), text)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        write_json(path := self.path(name), obj)
        return path

    def save_npy(self, name: str, array: np.ndarray) -> Path:
        save_npy(path := self.path(name), array)
        return path

    def save_torch(self, name: str, obj: Any) -> Path:
        save_torch(path := self.path(name), obj)
        return path

    def save_figure(self, name: str, fig, dpi: int = 100, tight: bool = True) -> Path:
        from sla_cli.plotting import save_figure  # matplotlib only for stages that draw

        save_figure(fig, path := self.path(name), dpi=dpi, tight=tight)
        return path

    def npy_chunks(self, name: str, shape: tuple[int, ...], dtype):
        """A writer for a large array appended chunk by chunk (see sla_cli.npy_chunks)."""
        from sla_cli.npy_chunks import npy_chunks

        return npy_chunks(self.path(name), shape, dtype)
