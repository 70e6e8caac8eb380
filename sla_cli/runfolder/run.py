"""``with Run(out_dir, kind, cfg) as run:`` -- the only way a stage writes a run folder.

On entry the folder is made and locked (one writer at a time), stale temporaries of dead
processes are removed, and the folder is checked; nothing in it changes yet. A folder that holds
the same complete run is verified against its hashes and reported (``run.complete``); one that
holds another run, or files that are not an sla run's, is refused unless run.overwrite=true.

Files go through ``run.save_*`` (atomic, recorded for the manifest). The first write is the moment
an overwritten run stops being valid: its manifest is removed then, not before, so every check a
stage makes before writing (device, dataset, sizes, memory) fails with the old run intact. The old
run's files are replaced by the new run's writes; those it named that the new run did not write
are removed at the successful end, just before the new ``manifest.json``.

A run that fails removes the files it listed for its manifest (worthless without one) and, once it
has started writing, those of the run it replaced; what it wrote unlisted (checkpoints to resume
from) stays. A run that fails before writing anything of its own leaves no folder behind that it made.

Nothing here reads, writes or removes a path that leaves the folder through a symbolic link: a
manifest naming one is refused, and removal never follows a link.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from omegaconf import DictConfig, OmegaConf

from sla_cli import tracking
from sla_cli.errors import DataError
from sla_cli.runfolder.atomic import TEMP, remove_stale_temporaries, save_npy, save_torch, write_json, write_text
from sla_cli.runfolder.experiment import differences, experiment, identity
from sla_cli.runfolder.lock import LOCK, FolderLock
from sla_cli.runfolder.manifest import (
    CONFIG,
    MANIFEST,
    config_dict,
    finish,
    inside,
    leaves,
    load_manifest,
    verify_files,
)


def _config_text(kind: str, cfg: DictConfig, out_dir: Path) -> str:
    return f"# sla {kind} run\n" + OmegaConf.to_yaml(OmegaConf.create(config_dict(cfg, out_dir)))


def _remove_inside(out_dir: Path, name: str) -> None:
    """Remove ``out_dir/name`` (and its sub-folder when that empties) without following a symbolic
    link: only when every folder on the way is a real folder inside ``out_dir``."""
    path = out_dir / name
    parent = os.path.realpath(path.parent)
    if parent != os.path.join(os.path.realpath(out_dir), *Path(name).parts[:-1]):
        return  # a link on the way: what lies behind it is not this folder's
    with contextlib.suppress(OSError):  # gone, a folder, or not ours to remove: never a reason to fail
        path.unlink()  # a link itself is removed, never its target
    if path.parent != out_dir:
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty


def _holds_files(folder: Path) -> bool:
    return any(q.is_file() for q in folder.rglob("*"))


def _holds_foreign_files(out_dir: Path, kind: str) -> bool:
    entries = [p for p in out_dir.iterdir() if p.name != LOCK and not TEMP.match(p.name)] if out_dir.is_dir() else []
    if not entries:
        return False
    config_path = out_dir / CONFIG
    return not (config_path.exists() and config_path.read_text(errors="replace").startswith(f"# sla {kind} run"))


class Run:
    """One stage's run folder: ``with Run(out_dir, kind, cfg) as run:``.

    ``run.complete`` is True when the same run is already complete there (verified), and the stage
    returns. ``manifest.json`` is written on a clean exit only, unless the stage called
    ``run.leave_incomplete()`` (a run stopped early on purpose, to resume later).
    """

    def __init__(self, out_dir: str | Path, kind: str, cfg: DictConfig):
        self.out_dir, self.kind, self.cfg = Path(out_dir), kind, cfg
        self.files: list[str] = []
        self.extra: dict[str, Any] = {}
        self.complete = False
        self.manifest: dict | None = None
        self.replacing: dict | None = None  # the manifest of the run run.overwrite=true replaces
        self._incomplete = self._writing = self._was_empty = False
        self._lock: FolderLock | None = None

    # -- entry: make, lock, check; change nothing --------------------------------------------------
    def __enter__(self) -> Run:
        out = self.out_dir
        if out.exists() and not out.is_dir():
            raise DataError(f"run.out={out} is a file, not a folder; choose another run.out=DIR")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataError(f"cannot create run.out={out} ({e.strerror}); choose another run.out=DIR") from None
        self._lock = FolderLock(out).acquire()
        self._started = time.perf_counter()
        try:
            remove_stale_temporaries(out)
            self._was_empty = not any(p.name != LOCK for p in out.iterdir())
            self._check()
        except BaseException:
            self._close(failed=True)
            raise
        return self

    def _check(self) -> None:
        out, kind = self.out_dir, self.kind
        overwrite = bool(OmegaConf.select(self.cfg, "run.overwrite", default=False))
        if (out / MANIFEST).exists():
            try:
                old = load_manifest(out / MANIFEST)
            except DataError as e:
                if not overwrite:
                    raise DataError(f"{e}; pass run.overwrite=true to replace the run") from None
                old = {"kind": "unknown", "sha256": {}}  # nothing of it is trusted, nothing of it removed
            if overwrite:
                for name in old["sha256"]:  # what overwrite will remove: refused before anything changes
                    if (real := leaves(out, name)) is not None:
                        raise DataError(
                            f"{out / MANIFEST} names {name}, which leads outside {out} through a "
                            f"symbolic link (to {real}); remove that run by hand or choose another run.out=DIR"
                        )
                self.replacing = old
                return
            # the identity recomputed from the old run's config: one definition, whatever wrote it
            if old["kind"] == kind and identity(old["config"]) == identity(config_dict(self.cfg, out)):
                try:
                    verify_files(out, old)
                except DataError as e:
                    raise DataError(f"{e}; run.overwrite=true runs it again") from None
                from sla_cli.console import console

                self.complete, self.manifest = True, old
                console.print(
                    f"{out} already holds this {kind} run (manifest.json, hashes verified); nothing to do",
                    soft_wrap=True,
                )
                return
            changed = differences(experiment(old["config"]), experiment(config_dict(self.cfg, out)))
            what = (
                f"another kind of run ({old['kind']}, not {kind})"
                if old["kind"] != kind
                else f"a different {kind} run ({changed})"
            )
            raise DataError(f"{out} already holds {what}; choose another run.out=DIR or pass run.overwrite=true")
        if not overwrite and _holds_foreign_files(out, kind):
            raise DataError(
                f"{out} is not empty and holds no sla {kind} run; choose another run.out=DIR or pass run.overwrite=true"
            )

    # -- exit: manifest on success; on failure, leave nothing behind that holds nothing ------------
    def __exit__(self, exc_type, exc, tb) -> Literal[False]:
        failed = exc_type is not None
        try:
            if not failed and not self.complete and not self._incomplete:
                self._start_writing()
                self._remove_replaced_leftovers()
                # wall time of this process's run (a resumed train counts only its last part; its
                # metrics.json holds the training time summed over parts)
                wall = {"wall_seconds": round(time.perf_counter() - self._started, 1)}
                self.manifest = finish(self.out_dir, self.kind, self.cfg, self.files, **{**wall, **self.extra})
        except BaseException:
            failed = True
            raise
        finally:
            self._close(failed)
        return False

    def _remove_replaced_leftovers(self) -> None:
        """Files the replaced run's manifest named that this run did not write (never any other)."""
        for name in (self.replacing or {}).get("sha256", {}):
            if name not in self.files and name not in (CONFIG, MANIFEST):
                _remove_inside(self.out_dir, name)

    def _discard(self) -> None:
        """After a failure: the files this run listed and, once it wrote, those of the run it replaced."""
        if not self._writing:
            return
        replaced = list((self.replacing or {}).get("sha256", {}))
        for name in dict.fromkeys([*self.files, *replaced]):
            if name not in (CONFIG, MANIFEST):
                _remove_inside(self.out_dir, name)

    def _close(self, failed: bool) -> None:
        out = self.out_dir
        if failed:
            self._discard()
        if failed and self._was_empty:
            # a run that died before writing anything of its own (a lone config.yaml, empty
            # sub-folders): no trace
            entries = [p for p in out.iterdir() if p.name != LOCK]
            if all(p.name == CONFIG or (p.is_dir() and not p.is_symlink() and not _holds_files(p)) for p in entries):
                for p in entries:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if failed and self._was_empty:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty

    # -- writes ------------------------------------------------------------------------------------
    def _start_writing(self) -> None:
        """Before the first write: the replaced run stops being valid; this run's config.yaml."""
        if self._writing:
            return
        self._writing = True
        if self.replacing is not None:
            with contextlib.suppress(FileNotFoundError):
                (self.out_dir / MANIFEST).unlink()
        write_text(self.out_dir / CONFIG, _config_text(self.kind, self.cfg, self.out_dir))

    def path(self, name: str) -> Path:
        """Where ``name`` lies in the folder (sub-folders are made); recorded for the manifest."""
        path = self.unlisted_path(name)
        if name not in self.files:
            self.files.append(name)
        return path

    def unlisted_path(self, name: str) -> Path:
        """Where a file the manifest does not list lies (checkpoints, pruned as the run goes)."""
        self._start_writing()
        path = self.out_dir / name
        inside(self.out_dir, Path(name).parent.as_posix())  # never a write through a link out of the folder
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def describe(self, **fields: Any) -> None:
        """Extra fields for manifest.json (shapes, device, counts) that readers check."""
        self.extra.update(fields)

    def leave_incomplete(self) -> None:
        """End this run without a manifest: the folder stays incomplete (e.g. run.stop_after)."""
        self._incomplete = True

    def save_text(self, name: str, text: str) -> Path:
        write_text(path := self.path(name), text)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        write_json(path := self.path(name), obj)
        tracking.numbers(f"{self.kind}/{Path(name).stem}", obj)  # run.logger=tensorboard; nothing otherwise
        return path

    def save_npy(self, name: str, array: np.ndarray) -> Path:
        save_npy(path := self.path(name), array)
        return path

    def save_torch(self, name: str, obj: Any) -> Path:
        save_torch(path := self.path(name), obj)
        return path

    def save_figure(self, name: str, fig, dpi: int = 100, tight: bool = True) -> Path:
        from sla_cli.plotting import save_figure  # matplotlib only for stages that draw

        tracking.figure(f"{self.kind}/{Path(name).stem}", fig)
        save_figure(fig, path := self.path(name), dpi=dpi, tight=tight)
        return path

    def npy_chunks(self, name: str, shape: tuple[int, ...], dtype):
        """A writer for a large array appended chunk by chunk (see sla_cli.npy_chunks)."""
        from sla_cli.npy_chunks import npy_chunks

        return npy_chunks(self.path(name), shape, dtype)
