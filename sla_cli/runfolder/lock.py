"""One writer per run folder: an exclusive ``fcntl.flock`` on ``DIR/.sla-lock``.

The kernel releases a flock when its process dies, however it dies, so a killed run never leaves a
stale lock behind. The holder deletes the lock file when it ends (folders stay clean); a process
that locked a file just deleted that way sees that the path no longer names its file and tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sla_cli.errors import DataError

LOCK = ".sla-lock"


class FolderLock:
    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK
        self.fd: int | None = None

    def acquire(self) -> FolderLock:
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise DataError(f"cannot lock {self.path.parent} ({e.strerror})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                os.close(fd)
                raise DataError(
                    f"{self.path.parent} is in use by another sla run (pid {holder or '?'}); "
                    "wait for it to end or choose another run.out=DIR"
                ) from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder deleted this file as we locked it: lock the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still held: nobody can have locked it in between
        os.close(self.fd)
        self.fd = None
