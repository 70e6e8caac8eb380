"""The training step's speed and its share of this machine's matmul peak, before and after, side by side.

Variants, timed in interleaved rounds in one process (the medians are kept, so a busy machine
slows all of them alike; read the ratios and shares, not the times):
  mm        one large torch.mm (fp32 on CPU, bf16 on CUDA): the matmul peak measured in this run
  autograd  loop.train_step(fast=False): autograd's step (the step before sla_cli/train/fast_step.py)
  fast      loop.train_step: the hand-written step where it covers the model (CPU, float32; on
            CUDA it is autograd's bf16 step, reported as "batched")
  naive     a Python list of C nn.Module autoencoders looped over (--naive; on by default with
            --quick and on CUDA, where the target is batched >= 20x naive)
Each unit is one self and one cross step (the alternate schedule) on the same batch, Adam included.
FLOPs are counted from the shapes (bench/flops.py says how); GFLOP/s are the counted FLOPs over the
median time, wall clock and this process's CPU time (with --threads 1 on a shared machine the CPU
time is what this process got of one core).

    PYTHONPATH=. python bench/train_step.py --quick                        # seconds, small sizes
    PYTHONPATH=. python bench/train_step.py --threads 1 --hidden 128,512,1024   # the demo's shapes
    PYTHONPATH=. python bench/train_step.py --threads 1 --hidden 512 --batch 256 --profile
    python bench/train_step.py --json out.json    # on CUDA: the paper's size in bf16
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.flops import n_parameters, step_flops  # noqa: E402
from sla_cli.models.ae_set import AutoencoderSet  # noqa: E402
from sla_cli.models.naive_ae import naive_copy  # noqa: E402
from sla_cli.runtime import autocast  # noqa: E402
from sla_cli.train.loop import loss_weights, make_optimizer, random_derangement, train_step  # noqa: E402

# Dense bf16 tensor-core peaks (TFLOP/s) of the cards we may meet, beside the measured one; --peak-tflops overrides.
LISTED_PEAKS = {"H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0, "A100": 312.0}
SIZES = {  # contexts, dim (pixels), latent, batch, hidden widths
    "quick": {"contexts": 100, "dim": 256, "latent": 8, "batch": 16, "hidden": [32]},
    "cpu": {"contexts": 100, "dim": 1024, "latent": 16, "batch": 32, "hidden": [128, 512, 1024]},  # demo, 32x32
    "cuda": {"contexts": 100, "dim": 2304, "latent": 16, "batch": 256, "hidden": [2048]},  # paper, 48x48
}


def naive_step(members, optimizer, x, weight, perm, device) -> None:
    """The same step, one module at a time: encode each context, decode each with its partner's latent."""
    c = len(members)
    with autocast(device):
        z = [members[i].encode(x[i]) for i in range(c)]
        loss = 0
        for i in range(c):
            recon = torch.sigmoid(members[i].decode_logits(z[int(perm[i])]).float())
            loss = loss + ((recon - x[i]).square() * weight[i]).sum()
        loss = loss / x.shape[1]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def interleaved(units: dict, rounds: int, device: torch.device) -> dict[str, dict[str, float]]:
    """{name: {"wall", "cpu"}}: median seconds of each unit, timed round by round in turn after one warm-up."""

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for unit in units.values():
        unit()
    times = {name: {"wall": [], "cpu": []} for name in units}
    for _ in range(rounds):
        for name, unit in units.items():
            sync()
            wall, cpu = time.perf_counter(), time.process_time()
            unit()
            sync()
            times[name]["wall"].append(time.perf_counter() - wall)
            times[name]["cpu"].append(time.process_time() - cpu)
    return {name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()}


def make_units(s: dict, device: torch.device, naive: bool) -> dict:
    """The timed units at one size: two steps each (self, cross) of every variant, and one large mm."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(s["contexts"], s["batch"], s["dim"], generator=gen).to(device)
    masks = (torch.rand(s["contexts"], 1, s["dim"], generator=gen) > 0.3).float().to(device)  # any mask: same cost
    weight = loss_weights(masks)
    perm = random_derangement(s["contexts"], gen).to(device)
    units = {}
    n, reps = (8192, 10) if device.type == "cuda" else (2048, 1)  # a GPU's product takes about a millisecond
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    units["mm"] = lambda: [torch.mm(a, b) for _ in range(reps)]
    variants = {"autograd": False, "fast": True} if device.type == "cpu" else {"batched": True}
    for name, fast in variants.items():
        model = AutoencoderSet(s["contexts"], s["dim"], s["hidden"], s["latent"]).to(device)
        opt = make_optimizer(model, 1e-3, device)
        units[name] = lambda model=model, opt=opt, fast=fast: [
            train_step(model, opt, x, weight, kind, perm, fast=fast) for kind in ("self", "cross")
        ]
    if naive:
        members = naive_copy(AutoencoderSet(s["contexts"], s["dim"], s["hidden"], s["latent"])).to(device)
        opt_n, identity = make_optimizer(members, 1e-3, device), torch.arange(s["contexts"])
        units["naive"] = lambda: [naive_step(members, opt_n, x, weight, p, device) for p in (identity, perm)]
    return units, reps * 2 * n**3


def profile(units: dict, device: torch.device) -> None:
    """torch.profiler's top ops of each unit (one run of it, after the timed rounds)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    for name, unit in units.items():
        if name == "mm":
            continue
        with torch_profile(activities=activities, record_shapes=True) as prof:
            unit()
        print(f"\n-- profile: {name} (one self and one cross step)")
        print(
            prof.key_averages(group_by_input_shape=True).table(
                sort_by=key, row_limit=14, max_name_column_width=28, max_shapes_column_width=56
            )
        )


def measure(s: dict, device: torch.device, rounds: int, naive: bool, show_profile: bool) -> dict:
    units, mm_flops = make_units(s, device, naive)
    times = interleaved(units, rounds, device)
    flops = step_flops(s["contexts"], s["dim"], s["hidden"], s["latent"], s["batch"])
    peak = {k: mm_flops / times["mm"][k] / 1e9 for k in ("wall", "cpu")}
    result = {
        "sizes": s,
        "parameters": n_parameters(s["contexts"], s["dim"], s["hidden"], s["latent"]),
        "gflop_per_step": {k: v / 1e9 for k, v in flops.items()},
        "mm_peak_gflops": peak,
        "variants": {},
    }
    for name, t in times.items():
        if name == "mm":
            continue
        per_step = {k: t[k] / 2 for k in ("wall", "cpu")}  # a unit is two steps
        gflops = {k: flops["total"] / per_step[k] / 1e9 for k in per_step}
        result["variants"][name] = {
            "step_ms": {k: v * 1e3 for k, v in per_step.items()},
            "gflops": gflops,
            "share_of_peak": {k: gflops[k] / peak[k] for k in gflops},
        }
    v = result["variants"]
    if "autograd" in v:
        result["fast_over_autograd"] = {k: v["autograd"]["step_ms"][k] / v["fast"]["step_ms"][k] for k in peak}
    batched = v.get("fast") or v.get("batched")
    if "naive" in v:
        result["naive_over_batched"] = v["naive"]["step_ms"]["wall"] / batched["step_ms"]["wall"]
    if show_profile:
        profile(units, device)
    return result


def report(r: dict, device: torch.device) -> None:
    s, g = r["sizes"], r["gflop_per_step"]
    print(
        f"\nC={s['contexts']} D={s['dim']} H={s['hidden']} L={s['latent']} B={s['batch']}: "
        f"{g['total']:.2f} GFLOP/step ({100 * g['matmul'] / g['total']:.0f}% matmul, "
        f"{100 * g['adam'] / g['total']:.1f}% Adam), {r['parameters'] / 1e6:.1f} M parameters"
    )
    peak = r["mm_peak_gflops"]
    print(f"  {'':9s} {'ms/step':>9s} {'GFLOP/s':>8s} {'of peak':>8s} | {'CPU ms':>8s} {'GFLOP/s':>8s} {'of peak':>8s}")
    print(f"  {'mm peak':9s} {'':>9s} {peak['wall']:8.1f} {'':>8s} | {'':>8s} {peak['cpu']:8.1f}")
    for name, v in r["variants"].items():
        ms, gf, sh = v["step_ms"], v["gflops"], v["share_of_peak"]
        print(
            f"  {name:9s} {ms['wall']:9.1f} {gf['wall']:8.1f} {100 * sh['wall']:7.0f}% | "
            f"{ms['cpu']:8.1f} {gf['cpu']:8.1f} {100 * sh['cpu']:7.0f}%"
        )
    if "fast_over_autograd" in r:
        f = r["fast_over_autograd"]
        print(f"  fast over autograd: {f['wall']:.2f}x wall, {f['cpu']:.2f}x CPU time")
    if "naive_over_batched" in r:
        print(f"  naive / batched: {r['naive_over_batched']:.1f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, seconds on CPU (with the naive loop)")
    p.add_argument("--device", default="auto")
    for k in ("contexts", "dim", "latent"):
        p.add_argument(f"--{k}", type=int)
    p.add_argument("--hidden", help="comma-separated widths (default: 128,512,1024 on CPU, 2048 on CUDA)")
    p.add_argument("--batch", help="comma-separated batch sizes (default: 32 on CPU, 256 on CUDA)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's; 1 on a shared machine)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (the median is kept)")
    p.add_argument("--naive", action="store_true", help="also time the naive per-context loop")
    p.add_argument("--profile", action="store_true", help="print torch.profiler's top ops of each variant")
    p.add_argument("--peak-tflops", type=float, help="the card's listed bf16 peak, beside the measured one")
    p.add_argument("--json", type=Path, help="write the results here")
    args = p.parse_args()

    device = torch.device(
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else "cpu"
        if args.device == "auto"
        else args.device
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    base = SIZES["quick" if args.quick else device.type]
    base = {k: getattr(args, k, None) or v for k, v in base.items()}
    hiddens = [int(h) for h in args.hidden.split(",")] if args.hidden else base["hidden"]
    batches = [int(b) for b in args.batch.split(",")] if args.batch else [base["batch"]]
    naive = args.naive or args.quick or device.type == "cuda"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device {device} ({name}), {torch.get_num_threads()} threads, torch {torch.__version__}; "
        f"load average {os.getloadavg()[0]:.1f} at start; {args.rounds} rounds",
        flush=True,
    )
    results = []
    for batch in batches:
        for hidden in hiddens:
            s = {**base, "hidden": hidden, "batch": batch}
            results.append(measure(s, device, args.rounds, naive, args.profile and not results))
            report(results[-1], device)
    out = {
        "device": name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_average": os.getloadavg()[0],
        "results": results,
    }
    if device.type == "cuda":
        listed = args.peak_tflops or next((v for k, v in LISTED_PEAKS.items() if k in name), None)
        out["listed_bf16_peak_tflops"] = listed
        if listed:
            for r in results:
                print(
                    f"H={r['sizes']['hidden']}: {r['variants']['batched']['gflops']['wall'] / 1e3:.1f} TFLOP/s, "
                    f"{100 * r['variants']['batched']['gflops']['wall'] / 1e3 / listed:.0f}% of the listed "
                    f"{listed:.0f} TFLOP/s bf16 peak"
                )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
