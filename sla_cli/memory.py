"""Memory a job will need, estimated from its config before anything is allocated, against what
the machine has: device memory on CUDA (``torch.cuda.mem_get_info``), available RAM on CPU
(``MemAvailable`` in /proc/meminfo, capped by a cgroup limit). A job that cannot fit is refused in
one line naming the part that needs most and the key that sets it. The estimates count the large
buffers only (weights with Adam's state, a batch's activations, the renderer's operator, resident
data), so they err low: they refuse sizes off by orders of magnitude, never a preset that runs.
``torch.OutOfMemoryError`` and ``MemoryError`` are still caught once, in hydra_app, as a last resort.

A stage's estimate needs the shapes of what it reads (a dataset's contexts and frame, a model's
width): ``Shapes.from_folders`` reads them from the input folders' manifests (a stage about to
run); `sla pipeline`'s pre-flight gives them from the configs of the stages that will write them.
Estimators are found by the stage's kind (``sla_cli.pipeline.registry``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from sla_cli.errors import ConfigError
from sla_cli.pipeline.registry import BY_NAME
from sla_cli.runfolder.manifest import MANIFEST

F32 = 4
Parts = dict[str, float]  # "what (key that sets it)" -> bytes
AUTO = "auto"
MNIST_IMAGES = 70000


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


@dataclass
class Shapes:
    """What a stage's estimate needs to know of its inputs; None where unknown."""

    dataset: tuple[int, int, int] | None = None  # contexts, pixels per image, training digits
    model: dict | None = None  # n_members, dim, hidden, latent, tied
    models: int = 1  # trained models an eval stage loads (its model and its baselines)

    @classmethod
    def from_folders(cls, cfg: DictConfig) -> Shapes:
        dataset = _dataset_shape(cfg.get("dataset_dir")) if isinstance(cfg.get("dataset_dir"), str) else None
        model = _model_config(cfg.get("model_dir")) if isinstance(cfg.get("model_dir"), str) else None
        return cls(dataset, model, _models_loaded(cfg))


def _manifest(folder: str) -> dict | None:
    try:
        m = json.loads((Path(folder) / MANIFEST).read_text())
        return m if isinstance(m, dict) else None
    except (OSError, ValueError):
        return None  # the stage itself reports a bad folder, in its own words


def _dataset_shape(folder: str) -> tuple[int, int, int] | None:
    """(contexts, pixels per image, training digits) from a dataset's manifest, if readable."""
    try:
        m = _manifest(folder)
        size = int(m["image_size"])
        n = int(m.get("counts", {}).get("train", 0) or m.get("config", {}).get("n_train", 0))
        return int(m["n_contexts"]), size * size, n
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _model_config(folder: str) -> dict | None:
    m = _manifest(folder)
    model = m.get("model") if m else None
    return model if isinstance(model, dict) and {"n_members", "dim", "hidden", "latent"} <= set(model) else None


def _models_loaded(cfg: DictConfig) -> int:
    extra = cfg.get("oneshot", {}) or {}
    dirs = [extra.get("ablation_model_dir"), *(extra.get("baseline_model_dirs") or {}).values()]
    return 1 + sum(isinstance(d, str) for d in dirs)


def set_parameters(c: int, d: int, h: int, latent: int, tied: bool = True) -> int:
    """Parameters of a set of C autoencoders D -> H -> L -> H -> D (sla_cli.models.ae_set)."""
    return c * ((d * h + h * latent) * (1 if tied else 2) + 2 * h + latent + d)


def holds_training_set(nbytes: float, device, have: int | None = None) -> bool:
    """``train.device_data_mb=auto``: hold the training set on the device when a copy of it on the
    way in and the resident copy take at most half of what is free (the rest is the model's), and,
    for a GPU, when the host has the RAM for the copy it uploads; otherwise batches are read from the
    memory-mapped arrays."""
    have = available(device) if have is None else have
    if _type(device) == "cuda":
        ram = available_ram()
        if ram is not None and nbytes > ram / 2:
            return False
        return have is None or nbytes <= have / 2
    return have is None or 2 * nbytes <= have / 2


def _generate_cubes(cfg: DictConfig, device, shapes: Shapes, have: int | None) -> Parts:
    c = cfg.contexts.n_side + cfg.contexts.n_top
    size, ss, chunk = cfg.render.size, cfg.render.supersample, cfg.render.chunk
    fine = c * (size * ss) ** 2  # supersampled pixels of one digit in every context
    sparse = cfg.render.backend == "sparse" or (cfg.render.backend == "auto" and _type(device) != "cuda")
    return {
        "the renderer's sampling grids and operator (render.size, render.supersample)": fine * (200 if sparse else 8),
        "one chunk of rendered digits (render.chunk, render.size)": chunk
        * (fine * (0 if sparse else 6 * F32) + c * size * size * 2),
        "one chunk of painted cubes (render.chunk, render.size)": chunk * (size * ss) ** 2 * 8 * F32,
    }


def training_set_bytes(cfg: DictConfig, shape: tuple[int, int, int], device, have: int | None) -> float:
    """Bytes train holds for its training set (0: read memory-mapped), by train.device_data_mb."""
    c, d, n = shape
    whole = c * d * n
    limit = cfg.train.device_data_mb
    holds = holds_training_set(whole, device, have) if limit == AUTO else whole <= limit * 2**20
    return whole if holds else 0


def _train(cfg: DictConfig, device, shapes: Shapes, have: int | None) -> Parts:
    if shapes.dataset is None:
        return {}
    c, d, n = shapes.dataset
    h, lat, b = cfg.model.hidden, cfg.model.latent, cfg.train.batch_size
    return {
        "weights, gradients and Adam's state (model.hidden)": set_parameters(c, d, h, lat, cfg.model.tied) * 4 * F32,
        "one batch's activations (train.batch_size)": c * b * (3 * d + 2 * h + lat) * F32 * 2,
        # on a CPU the copy made on the way in and the resident one; on a GPU the resident one
        "the training set held whole (train.device_data_mb)": (1 if _type(device) == "cuda" else 2)
        * training_set_bytes(cfg, shapes.dataset, device, have),
    }


def _classify(cfg: DictConfig, device, shapes: Shapes, have: int | None) -> Parts:
    k, d, m = 10, 784, cfg.classify.autoencoder
    return {
        "weights, gradients and Adam's state (classify.autoencoder.hidden)": k
        * (d * m.hidden + m.hidden * m.latent)
        * 8
        * F32,
        "one batch's activations (classify.train.batch_size)": k
        * cfg.classify.train.batch_size
        * (2 * d + 2 * m.hidden)
        * 2
        * F32,
        "the Jacobians of eq. (4) (classify.full.batch)": k * cfg.classify.full.batch * m.latent * m.hidden * 3 * F32,
        "MNIST as float32": MNIST_IMAGES * d * F32,
    }


def _loaded_models(shapes: Shapes) -> float:
    m = shapes.model
    if m is None:
        return 0
    return shapes.models * set_parameters(m["n_members"], m["dim"], m["hidden"], m["latent"], m.get("tied", True)) * F32


def _eval_oneshot(cfg: DictConfig, device, shapes: Shapes, have: int | None) -> Parts:
    if shapes.model is None:
        return {}
    m = shapes.model
    return {
        "the trained models it compares (model_dir and the baselines' folders)": _loaded_models(shapes),
        "one chunk of contexts' glyph renders (oneshot.chunk_contexts)": cfg.oneshot.chunk_contexts
        * 100
        * (m["dim"] + m["hidden"])
        * F32
        * 2,
    }


def _eval_concept(cfg: DictConfig, device, shapes: Shapes, have: int | None) -> Parts:
    if shapes.model is None:
        return {}
    m = shapes.model
    return {
        "the trained model (model_dir)": _loaded_models(shapes),
        "one chunk of cubes in every context (concept.chunk)": cfg.concept.chunk
        * m["n_members"]
        * (2 * m["dim"] + m["hidden"])
        * F32
        * 2,
    }


# By the stage's kind (sla_cli.pipeline.registry); a stage not here is not estimated.
ESTIMATES: dict[str, Callable[[DictConfig, object, Shapes, int | None], Parts]] = {
    "dataset": _generate_cubes,
    "model": _train,
    "classify": _classify,
    "oneshot": _eval_oneshot,
    "concept": _eval_concept,
}


def _type(device) -> str:
    return getattr(device, "type", str(device))


def estimate(
    command: str, cfg: DictConfig, device="cpu", shapes: Shapes | None = None, have: int | None = None
) -> Parts:
    """The large buffers a job of ``command`` needs on ``device``, by part; empty when not estimated.
    ``shapes``: its inputs' (default: read from the input folders it names)."""
    fn = ESTIMATES.get(BY_NAME[command].kind)
    if fn is None:
        return {}
    return fn(cfg, device, Shapes.from_folders(cfg) if shapes is None else shapes, have)


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g}"


_size = size


def check(command: str, cfg: DictConfig, device, have: int | None = None, shapes: Shapes | None = None) -> None:
    """Refuse in one line a job whose estimate exceeds the memory ``device`` has free."""
    have = available(device) if have is None else have
    parts = estimate(command, cfg, device, shapes, have)
    need = sum(parts.values())
    if not parts or have is None or need <= have:
        return
    raise ConfigError(refusal(command, parts, have, device))


def refusal(command: str, parts: Parts, have: int, device) -> str:
    part = max(parts, key=parts.get)
    where = "is free on the GPU" if _type(device) == "cuda" else "of RAM is available"
    return (
        f"this {command} run needs about {size(sum(parts.values()))} of memory, {size(parts[part])} of it for "
        f"{part}, but only {size(have)} {where}; lower that setting or use a smaller preset"
    )
