"""`sla generate-cubes`: MNIST digits on the faces of a cube seen from above, in every context.

Writes (manifest.json last): train/test images uint8 [N, C, H, W] with labels and MNIST indices,
masks [C, H, W], the rotating cubes of one digit class (and optionally a second class at the same
angles), and the preview figures. Big arrays are written chunk by chunk, so memory stays bounded.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from rich.table import Table

from data_gen.cubes import SLOTS, paint_cubes, slot_contexts
from data_gen.geometry import Camera, cube_fits, make_contexts, quad_px, side_visible_limit_deg
from data_gen.mnist import COUNTS
from data_gen.render import context_grids, make_renderer, masks
from data_gen.sources import load_split
from sla_cli import runfolder
from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.pipeline.registry import DATASET_FILES
from sla_cli.runtime import console, progress, resolve_device
from sla_cli.schema.validate import check_integer

KIND = "dataset"
FILES = DATASET_FILES  # every name this stage writes, declared in the stage registry


def validate(cfg: DictConfig) -> None:
    """What depends on other keys (each key's type and range: sla_cli/schema/generate_cubes.py)."""
    mnist = value(cfg, "data.source") == "mnist"  # another source's counts are checked once it is read
    check_integer(cfg, "digits.train", 1, COUNTS["train"] if mnist else None)
    check_integer(cfg, "digits.test", 1, COUNTS["test"] if mnist else None)
    camera = Camera.from_config(cfg)
    if side_visible_limit_deg(camera) <= 0 or camera.distance * np.sin(np.radians(camera.elevation_deg)) <= 0.5:
        raise ConfigError(
            f"camera.distance={camera.distance} is too close: the camera must see the top and a side "
            "face from outside the cube"
        )
    if not cube_fits(camera):
        raise ConfigError(
            f"camera.fov_deg={camera.fov_deg} is too narrow for camera.distance={camera.distance}: "
            "the cube leaves the frame (widen the field of view or move the camera back)"
        )


# Independent random streams, named, so changing one count does not reshuffle the others.
# The numbers are part of every dataset's identity: changing one changes the data.
STREAMS = {"train": 1, "test": 2, "cube_angles": 3, "cube_faces": 4, "compare_faces": 5}


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, STREAMS[stream]])


def _write_split(
    run: runfolder.Run, name: str, digits: np.ndarray, render, shape: tuple[int, ...], chunk: int, bar, label: str
) -> None:
    task = bar.add_task(label, total=len(digits), info="")
    with run.npy_chunks(name, (len(digits), *shape), np.uint8) as writer:
        for i in range(0, len(digits), chunk):
            batch = torch.from_numpy(np.ascontiguousarray(digits[i : i + chunk]))
            writer.append(render(batch).cpu().numpy())
            bar.update(task, advance=len(batch))


def _write_cubes(
    run: runfolder.Run,
    prefix: str,
    textures: np.ndarray,
    angles: np.ndarray,
    camera: Camera,
    supersample: int,
    device: torch.device,
    chunk: int,
    bar,
) -> None:
    task = bar.add_task(prefix.rstrip("_"), total=len(angles), info="")
    with run.npy_chunks(FILES.cubes(prefix, "images"), (len(angles), camera.size, camera.size), np.uint8) as writer:
        for i in range(0, len(angles), chunk):
            tex = torch.from_numpy(np.ascontiguousarray(textures[i : i + chunk]))
            writer.append(paint_cubes(tex, angles[i : i + chunk], camera, supersample, device).cpu().numpy())
            bar.update(task, advance=len(tex))


def run(cfg: DictConfig, out_dir: Path) -> None:
    # Every input is read and checked before the run folder is touched: a bad MNIST file fails
    # with an overwritten dataset still complete (run.overwrite=true replaces it only from the first write).
    mnist = {
        split: load_split(cfg.data.source, cfg.run.data_root, split, cfg.run.download) for split in ("train", "test")
    }
    for split, (images, _) in mnist.items():
        if cfg.digits[split] > len(images):
            raise ConfigError(
                f"digits.{split}={cfg.digits[split]} but data.source={cfg.data.source} holds "
                f"{len(images)} {split} images"
            )
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        started = time.perf_counter()
        device = resolve_device(cfg.run.device)
        torch.manual_seed(cfg.seed)
        camera = Camera.from_config(cfg)
        contexts = make_contexts(camera, cfg.contexts.n_side, cfg.contexts.n_top)
        ss, chunk = int(cfg.render.supersample), int(cfg.render.chunk)
        grids = context_grids(camera, contexts, ss)
        mask = masks(grids, ss).numpy()
        backend, render = make_renderer(grids, ss, cfg.render.backend, device)
        with progress() as bar:
            splits = _write_digit_splits(run, cfg, mnist, render, (len(contexts), camera.size, camera.size), chunk, bar)
            run.save_npy(FILES.masks, mask.astype(np.float32))
            cube_textures = _write_cube_sets(
                run, cfg, splits[cfg.cubes.split], camera, contexts, ss, device, chunk, bar
            )
        _write_previews(run, cfg, splits["train"], render, mask, cube_textures, camera, ss, device)
        run.describe(
            n_contexts=len(contexts),
            image_size=camera.size,
            n_side=int(cfg.contexts.n_side),
            n_top=int(cfg.contexts.n_top),
            side_visible_limit_deg=side_visible_limit_deg(camera),
            supersample=ss,
            backend=backend,
            counts={"train": int(cfg.digits.train), "test": int(cfg.digits.test), "cubes": int(cfg.cubes.count)},
            cube_slots=list(SLOTS),
            cube_digit=int(cfg.cubes.digit),
            compare_digit=cfg.cubes.compare_digit,
            contexts=[
                {
                    "index": c.index,
                    "face": c.face,
                    "yaw_deg": c.yaw_deg,
                    "quad_px": quad_px(camera, c.face, c.yaw_deg).round(4).tolist(),
                }
                for c in contexts
            ],
        )
    _report(run.out_dir, run.manifest, time.perf_counter() - started, device, backend)


def _write_digit_splits(
    run: runfolder.Run, cfg: DictConfig, mnist: dict, render, frame: tuple[int, ...], chunk: int, bar
) -> dict:
    """MNIST train and test digits (``mnist``: split -> images, labels), a seeded pick of each,
    rendered in every context."""
    splits = {}
    for split in ("train", "test"):
        images, labels = mnist[split]
        pick = _rng(cfg.seed, split).permutation(len(images))[: cfg.digits[split]]
        splits[split] = (images, labels, pick)
        _write_split(run, FILES.split(split, "images"), images[pick], render, frame, chunk, bar, f"{split} digits")
        run.save_npy(FILES.split(split, "labels"), labels[pick])
        run.save_npy(FILES.split(split, "indices"), pick.astype(np.int64))
    return splits


def _write_cube_sets(
    run: runfolder.Run, cfg: DictConfig, split, camera: Camera, contexts, ss: int, device: torch.device, chunk: int, bar
) -> dict:
    """Rotating cubes of one digit class (and a second class at the same yaws); returns one
    cube's face textures per class, for the preview."""
    images, labels, _ = split
    k = int(cfg.cubes.count)
    angles = _rng(cfg.seed, "cube_angles").uniform(0.0, 90.0, k)
    run.save_npy(FILES.cubes_angles, angles)
    run.save_npy(FILES.cubes_contexts, slot_contexts(camera, contexts, angles).astype(np.int16))
    classes = [("cubes_", int(cfg.cubes.digit), "cube_faces")]
    if cfg.cubes.compare_digit is not None:
        classes.append(("cubes_compare_", int(cfg.cubes.compare_digit), "compare_faces"))
    cube_textures = {}
    for prefix, digit, stream in classes:
        pool = np.flatnonzero(labels == digit)
        faces = _rng(cfg.seed, stream).choice(pool, size=(k, len(SLOTS)))  # a digit instance per face
        cube_textures[prefix] = images[faces[0]]
        _write_cubes(run, prefix, images[faces], angles, camera, ss, device, chunk, bar)
        run.save_npy(FILES.cubes(prefix, "digits"), np.full(k, digit, dtype=np.uint8))
        run.save_npy(FILES.cubes(prefix, "indices"), faces.astype(np.int64))
    return cube_textures


def _write_previews(
    run: runfolder.Run,
    cfg: DictConfig,
    train,
    render,
    mask: np.ndarray,
    cube_textures: dict,
    camera: Camera,
    ss: int,
    device: torch.device,
) -> None:
    from sla_cli.generate_cubes import previews  # matplotlib: here, so validate() (the pre-flight) goes without it

    images, labels, pick = train
    zeros = pick[labels[pick] == 0]
    example = images[zeros[0] if len(zeros) else pick[0]]  # figure 5 shows a zero
    one = render(torch.from_numpy(example[None].copy()))[0].cpu().numpy()
    run.save_figure(FILES.contexts_figure, previews.contexts_figure(one, int(cfg.contexts.n_side)), tight=False)
    run.save_figure(FILES.masks_figure, previews.masks_figure(mask), tight=False)
    turn = np.linspace(0.0, 90.0, 10, endpoint=False)
    panels = []
    for prefix, textures in cube_textures.items():
        digit = cfg.cubes.digit if prefix == "cubes_" else cfg.cubes.compare_digit
        sample = np.load(run.out_dir / FILES.cubes(prefix, "images"), mmap_mode="r")[:10]
        panels.append((f"cubes of digit {digit} at random yaws (figure 4)", np.asarray(sample)))
        tex = torch.from_numpy(np.repeat(textures[None], len(turn), 0))
        panels.append(
            (
                f"one cube of {digit}s turning 0..81 degrees (figure 13)",
                paint_cubes(tex, turn, camera, ss, device).cpu().numpy(),
            )
        )
    run.save_figure(FILES.cubes_figure, previews.cubes_figure(panels, cols=10), tight=False)


def _report(out_dir: Path, manifest: dict, seconds: float, device: torch.device, backend: str) -> None:
    table = Table(title=f"sla generate-cubes -> {out_dir}")
    table.add_column("array")
    table.add_column("shape")
    table.add_column("dtype")
    for name in manifest["sha256"]:
        if name.endswith(".npy"):
            arr = np.load(out_dir / name, mmap_mode="r")
            table.add_row(name, "x".join(map(str, arr.shape)), str(arr.dtype))
    console.print(table)
    console.print(
        f"{manifest['n_contexts']} contexts at {manifest['image_size']}px, backend {backend} on {device}, "
        f"{seconds:.1f} s"
    )
