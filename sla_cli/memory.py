"""Memory a job will need, estimated from its config before anything is allocated, against what
the machine has: device memory on CUDA (``torch.cuda.mem_get_info``), available RAM on CPU
(``MemAvailable`` in /proc/meminfo, capped by a cgroup limit). A job that cannot fit is refused in
one line naming the part that needs most and the key that sets it. The estimates count the large
buffers only (weights with Adam's state, a batch's activations, the renderer's operator, resident
data), so they err low: they refuse sizes off by orders of magnitude, never a preset that runs.
``torch.OutOfMemoryError`` and ``MemoryError`` are still caught once, in hydra_app, as a last resort.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable

from omegaconf import DictConfig

from sla_cli.errors import ConfigError

F32 = 4
Parts = dict[str, float]  # "what (key that sets it)" -> bytes


def available_ram() -> int | None:
    """MemAvailable, or the cgroup's remaining limit when that is lower (containers)."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(found) if found else None


def available(device) -> int | None:
    if _type(device) == "cuda":
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    return available_ram()


def _generate_cubes(cfg: DictConfig, device) -> Parts:
    c = cfg.contexts.n_side + cfg.contexts.n_top
    size, ss, chunk = cfg.render.size, cfg.render.supersample, cfg.render.chunk
    fine = c * (size * ss) ** 2  # supersampled pixels of one digit in every context
    sparse = cfg.render.backend == "sparse" or (cfg.render.backend == "auto" and _type(device) != "cuda")
    return {
        "the renderer's sampling grids and operator (render.size, render.supersample)": fine * (200 if sparse else 8),
        "one chunk of rendered digits (render.chunk, render.size)": chunk * (fine * (0 if sparse else 6 * F32)
                                                                            + c * size * size * 2),
        "one chunk of painted cubes (render.chunk, render.size)": chunk * (size * ss) ** 2 * 8 * F32,
    }


def _dataset_shape(folder: str) -> tuple[int, int, int] | None:
    """(contexts, pixels per image, training digits) from a dataset's manifest, if readable."""
    try:
        m = json.loads((Path(folder) / "manifest.json").read_text())
        size = int(m["image_size"])
        n = int(m.get("counts", {}).get("train", 0) or m.get("config", {}).get("n_train", 0))
        return int(m["n_contexts"]), size * size, n
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # the stage itself reports a bad dataset, in its own words


def _train(cfg: DictConfig, device) -> Parts:
    shape = _dataset_shape(cfg.dataset_dir)
    if shape is None:
        return {}
    c, d, n = shape
    h, lat, b = cfg.model.hidden, cfg.model.latent, cfg.train.batch_size
    params = c * (d * h + h * lat + 2 * h + lat + d) * (1 if cfg.model.tied else 2)
    data = c * d * n if c * d * n <= cfg.train.device_data_mb * 2**20 else 0
    return {
        "weights, gradients and Adam's state (model.hidden)": params * 4 * F32,
        "one batch's activations (train.batch_size)": c * b * (3 * d + 2 * h + lat) * F32 * 2,
        "the training set held whole (train.device_data_mb)": 2 * data,
    }


def _classify(cfg: DictConfig, device) -> Parts:
    k, d, m = 10, 784, cfg.classify.model
    return {
        "weights, gradients and Adam's state (classify.model.hidden)":
            k * (d * m.hidden + m.hidden * m.latent) * 8 * F32,
        "one batch's activations (classify.train.batch_size)":
            k * cfg.classify.train.batch_size * (2 * d + 2 * m.hidden) * 2 * F32,
        "the Jacobians of eq. (4) (classify.full.batch)": k * cfg.classify.full.batch * m.latent * m.hidden * 3 * F32,
        "MNIST as float32": 70000 * d * F32,
    }


ESTIMATES: dict[str, Callable[[DictConfig, object], Parts]] = {
    "generate-cubes": _generate_cubes, "train": _train, "classify": _classify,
}


def _type(device) -> str:
    return getattr(device, "type", str(device))


def estimate(command: str, cfg: DictConfig, device="cpu") -> Parts:
    """The large buffers a job of ``command`` needs on ``device``, by part; empty when not estimated."""
    fn = ESTIMATES.get(command)
    return fn(cfg, device) if fn else {}


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g}"


def check(command: str, cfg: DictConfig, device, have: int | None = None) -> None:
    """Refuse in one line a job whose estimate exceeds the memory ``device`` has free."""
    parts = estimate(command, cfg, device)
    need = sum(parts.values())
    have = available(device) if have is None else have
    if not parts or have is None or need <= have:
        return
    part = max(parts, key=parts.get)
    where = "is free on the GPU" if _type(device) == "cuda" else "of RAM is available"
    raise ConfigError(f"this {command} run needs about {_size(need)} of memory, {_size(parts[part])} of it for {part}, "
                      f"but only {_size(have)} {where}; lower that setting or use a smaller preset")
