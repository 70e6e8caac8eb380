"""Write a large ``.npy`` array chunk by chunk, atomically (``Run.npy_chunks`` hands these out).

The header is written first, then chunks are appended in order with plain file writes. Unlike a
writable memmap, nothing stays mapped, so the process's resident memory is one chunk whatever N is.
The file appears under its final name only once every row is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sla_cli.runfolder import atomic_path


class NpyChunkWriter:
    def __init__(self, file, shape: tuple[int, ...], dtype):
        self.file, self.shape, self.dtype = file, tuple(shape), np.dtype(dtype)
        self.rows = 0
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(file, header) if _needs_v2(
            header
        ) else np.lib.format.write_array_header_1_0(file, header)

    def append(self, chunk: np.ndarray) -> None:
        chunk = np.ascontiguousarray(chunk, dtype=self.dtype)
        if chunk.shape[1:] != self.shape[1:] or self.rows + len(chunk) > self.shape[0]:
            raise ValueError(f"chunk {chunk.shape} does not fit array {self.shape} after {self.rows} rows")
        self.file.write(chunk.data)
        self.rows += len(chunk)


def _needs_v2(header: dict) -> bool:
    return len(repr(header)) > 65000  # version 1.0 headers are limited to 65535 bytes


@contextlib.contextmanager
def npy_chunks(path: Path, shape: tuple[int, ...], dtype) -> Iterator[NpyChunkWriter]:
    """Yield a writer; on success the complete array is renamed to ``path``, else nothing appears."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize + 4096  # refused up front when the disk cannot hold it
    with atomic_path(Path(path), size) as tmp, open(tmp, "wb") as f:
        writer = NpyChunkWriter(f, shape, dtype)
        yield writer
        if writer.rows != shape[0]:
            raise ValueError(f"{path.name}: wrote {writer.rows} of {shape[0]} rows")
