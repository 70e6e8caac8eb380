"""Context-images per second: the batched renderers against a per-image PIL perspective loop.

    PYTHONPATH=. python bench/render.py [--quick] [--size 48] [--json FILE] [--memory]

Every renderer draws the same digits in the same contexts at the same frame size (plain bilinear,
supersample 1, so PIL does the same work); the supersampled (antialiased) renderers are timed too.
Every method is timed the same number of times, in interleaved rounds, and its best time is kept,
which is the fairest figure on a machine shared with other jobs. The ratios are taken from this one run.
``--memory`` also runs ``sla generate-cubes`` in a subprocess and reports its peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from data_gen.geometry import Camera, homography, make_contexts  # noqa: E402
from data_gen.mnist import load_split  # noqa: E402
from data_gen.render import SparseRenderer, context_grids, render_grid_sample  # noqa: E402


def pil_coefficients(h: np.ndarray) -> tuple[float, ...]:
    """PIL's PERSPECTIVE data maps output to input in corner-origin pixels: shift our centre-origin
    frame-to-texture map (the inverse homography) by half a pixel on both sides."""
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    m = shift @ np.linalg.inv(h) @ np.linalg.inv(shift)
    m = m / m[2, 2]
    return tuple(m.reshape(-1)[:8])


def render_pil(digits: np.ndarray, coefficients: list[tuple[float, ...]], size: int) -> np.ndarray:
    """The obvious loop: one Image.transform per digit per context."""
    out = np.empty((len(digits), len(coefficients), size, size), dtype=np.uint8)
    for i, digit in enumerate(digits):
        image = Image.fromarray(digit)
        for c, coeffs in enumerate(coefficients):
            out[i, c] = np.asarray(image.transform((size, size), Image.PERSPECTIVE, coeffs, Image.BILINEAR))
    return out


def _timed(fn) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def best_times(methods: dict, repeats: int) -> dict[str, float]:
    """Each method's best of ``repeats`` timings, every method timed the same number of times and in
    interleaved rounds (one run of each per round), so a burst of load on a shared machine hits all alike."""
    for fn in methods.values():
        fn()  # warm up (allocations, lazy init, CUDA kernels)
    times = {name: [] for name in methods}
    for _ in range(repeats):
        for name, fn in methods.items():
            times[name].append(_timed(fn))
    return {name: min(t) for name, t in times.items()}


def bench(size: int, n_digits: int, n_pil: int, repeats: int, gpu_only: bool = False) -> dict:
    camera = Camera(30.0, 4.0, 28.0, size)
    contexts = make_contexts(camera, 34, 66)
    images, _ = load_split(os.environ.get("SLA_DATA_ROOT", REPO.parent / "shared" / "data"), "test")
    digits = torch.from_numpy(images[:n_digits].copy())
    coefficients = [pil_coefficients(homography(camera, c.face, c.yaw_deg)) for c in contexts]
    n_ctx = len(contexts)
    results = {
        "size": size,
        "contexts": n_ctx,
        "digits": n_digits,
        "pil_digits": n_pil,
        "repeats": repeats,
        "methods": {},
    }

    pil_images = render_pil(images[:n_pil], coefficients, size)
    methods = {"pil_loop/cpu": (n_pil, lambda: render_pil(images[:n_pil], coefficients, size))}
    devices = [] if gpu_only else [torch.device("cpu")]
    devices += [torch.device("cuda")] if torch.cuda.is_available() else []
    for device in devices:
        d = digits.to(device)
        for ss in (1, 2):
            grids = context_grids(camera, contexts, ss).to(device)
            sparse = SparseRenderer(grids.cpu(), ss).to(device)
            if ss == 1 and device.type == "cpu":  # same work as PIL: check it is the same picture too
                ours = sparse(d[:n_pil]).numpy().astype(np.float32)
                results["mean_abs_diff_vs_pil"] = float(np.abs(ours - pil_images).mean())
            buffer = torch.zeros(n_digits, *sparse.shape, dtype=torch.uint8, device=device)  # reused, as the stage does
            methods[f"sparse_ss{ss}/{device.type}"] = (n_digits, lambda s=sparse, d=d, b=buffer: s(d, out=b))
            methods[f"grid_sample_ss{ss}/{device.type}"] = (
                n_digits,
                lambda d=d, g=grids, ss=ss: render_grid_sample(d, g, ss),
            )
    seconds = best_times({name: fn for name, (_, fn) in methods.items()}, repeats)
    results["methods"] = {name: n * n_ctx / seconds[name] for name, (n, _) in methods.items()}
    pil = results["methods"]["pil_loop/cpu"]
    results["ratio_vs_pil"] = {k: v / pil for k, v in results["methods"].items()}
    results["antialiasing_error"] = antialiasing_error(camera, contexts[::4], digits[:32])
    return results


def antialiasing_error(camera: Camera, contexts, digits: torch.Tensor) -> dict:
    """Mean |error| (0..255, over covered pixels) of each supersampling factor against s=8, the
    reference for the true area average: shows what plain bilinear loses when a face shrinks."""
    reference = SparseRenderer(context_grids(camera, contexts, 8), 8)(digits).float()
    covered = reference > 0
    return {
        f"ss{s}": float(
            (SparseRenderer(context_grids(camera, contexts, s), s)(digits).float() - reference).abs()[covered].mean()
        )
        for s in (1, 2, 4)
    }


PEAK_CHILD = """
import resource, runpy, sys
sys.argv = ["sla"] + sys.argv[1:]
try:
    runpy.run_module("sla_cli", run_name="__main__")
finally:  # VmHWM: this process's own peak (ru_maxrss can carry the parent's peak over fork + exec)
    try:
        peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"PEAK_KIB {peak}", file=sys.stderr)
"""


def peak_memory(overrides: list[str]) -> dict:
    """Peak resident memory (VmHWM, else ru_maxrss; KiB on Linux) of one generate-cubes run."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEAK_CHILD, "generate-cubes", f"run.out={out}/ds", *overrides],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        size = sum(p.stat().st_size for p in Path(out, "ds").iterdir())
    peak_kib = int(done.stderr.rsplit("PEAK_KIB", 1)[1].split()[0])  # Linux reports KiB
    return {"overrides": overrides, "peak_rss_mib": peak_kib / 1024, "output_mib": size / 2**20, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer digits and repeats (a few seconds)")
    parser.add_argument("--size", type=int, default=48, help="frame size in pixels (paper: 48)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--memory", action="store_true", help="measure peak memory of a generate-cubes run")
    parser.add_argument("--digits", type=int, help="digits per timed call (default 512, --quick 64; more on a GPU)")
    parser.add_argument("--gpu-only", action="store_true", help="time the CUDA renderers (and the PIL loop) only")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: one core each, like the PIL loop; 0 = torch's default)",
    )
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    n_digits, n_pil, repeats = (64, 8, 3) if args.quick else (512, 32, 7)
    n_digits = args.digits or n_digits
    results = bench(args.size, n_digits, n_pil, repeats, args.gpu_only)
    results["machine"] = {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "torch": torch.__version__,
    }
    if args.memory:  # the same run at two sizes: a bounded peak does not grow with N
        counts = (500, 2000) if args.quick else (1000, 8000)
        results["memory"] = [
            peak_memory(
                [
                    "preset=demo",
                    "run.device=cpu",
                    "render.size=48",
                    f"digits.train={n}",
                    "digits.test=100",
                    "cubes.count=200",
                ]
            )
            for n in counts
        ]

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"render throughput, {args.size}x{args.size} frame, {results['contexts']} contexts")
    table.add_column("method/device")
    table.add_column("context-images/s", justify="right")
    table.add_column("x PIL loop", justify="right")
    for name, rate in results["methods"].items():
        table.add_row(name, f"{rate:,.0f}", f"{results['ratio_vs_pil'][name]:.1f}")
    console = Console()
    console.print(table)
    if "mean_abs_diff_vs_pil" in results:  # measured on the CPU renderers
        console.print(f"same picture: mean |sparse_ss1 - PIL| = {results['mean_abs_diff_vs_pil']:.2f} of 255")
    console.print(
        "antialiasing, mean |error| vs 8x8 supersampling: "
        + ", ".join(f"{k} {v:.2f}" for k, v in results["antialiasing_error"].items())
    )
    for m in results.get("memory", []):
        console.print(
            f"generate-cubes peak RSS {m['peak_rss_mib']:.0f} MiB writing {m['output_mib']:.0f} MiB "
            f"({' '.join(m['overrides'])}) in {m['seconds']:.1f} s"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
