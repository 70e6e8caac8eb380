"""Time one training step of the batched autoencoder set against the naive loop over C modules.

Both do the same math on the same device: a self step and a cross step (decoder c reconstructs
context c's view from encoder perm[c]'s latent), mask-weighted squared error, one Adam update.
The naive version is a Python list of C ``nn.Module`` autoencoders looped over. Timings are taken
side by side in one run (interleaved rounds, median), so the ratio is what to read, not the times.

    python bench/train_step.py --quick            # under a minute on CPU (C=100, small sizes)
    python bench/train_step.py --json out.json    # on CUDA: the paper size, plus achieved TFLOP/s
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sla_cli.models.ae_set import AutoencoderSet  # noqa: E402
from sla_cli.models.naive_ae import naive_copy  # noqa: E402
from sla_cli.runtime import autocast  # noqa: E402
from sla_cli.train.loop import loss_weights, make_optimizer, random_derangement, train_step  # noqa: E402

# Dense bf16 tensor-core peaks (TFLOP/s) of the cards we may meet; --peak-tflops overrides.
PEAKS = {"H100 PCIe": 756.0, "H100": 989.0, "H200": 989.0, "A100": 312.0}


def sizes(args, device: torch.device) -> dict:
    if args.quick:
        base = {"contexts": 100, "dim": 256, "hidden": 32, "latent": 8, "batch": 16}  # 16x16 frames
    elif device.type == "cuda":  # the paper's Table 1 at 100 contexts, 48x48 frames (generate-cubes' paper preset)
        base = {"contexts": 100, "dim": 2304, "hidden": 2048, "latent": 16, "batch": 256}
    else:
        base = {"contexts": 100, "dim": 784, "hidden": 256, "latent": 16, "batch": 64}
    return {k: getattr(args, k) or v for k, v in base.items()}


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


def matmul_flops(s: dict) -> float:
    """Forward 2*B*K*N per matmul; backward twice that, less the input gradient of the first layer."""
    c, b, d, h, latent = s["contexts"], s["batch"], s["dim"], s["hidden"], s["latent"]
    forward = 2 * c * b * 2 * (d * h + h * latent)
    return 3 * forward - 2 * c * b * d * h


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, under a minute on CPU")
    p.add_argument("--device", default="auto")
    for k in ("contexts", "dim", "hidden", "latent", "batch"):
        p.add_argument(f"--{k}", type=int)
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's; 1 on a shared machine)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    p.add_argument("--steps", type=int, help="steps per round (default: 10 quick/CPU, 20 CUDA)")
    p.add_argument("--peak-tflops", type=float, help="the card's bf16 peak, for the share printed")
    p.add_argument("--json", type=Path, help="write {'naive_over_batched': ...} and the details here")
    args = p.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    s = sizes(args, device)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = args.steps or (20 if device.type == "cuda" else (4 if args.quick else 3))
    torch.manual_seed(0)
    batched = AutoencoderSet(s["contexts"], s["dim"], s["hidden"], s["latent"]).to(device)
    naive = naive_copy(batched)
    opt_b, opt_n = make_optimizer(batched, 1e-3, device), make_optimizer(naive, 1e-3, device)
    x = torch.rand(s["contexts"], s["batch"], s["dim"], device=device)
    masks = (torch.rand(s["contexts"], s["dim"], device=device) > 0.3).float()  # any mask: same cost
    weight = loss_weights(masks)
    gen = torch.Generator().manual_seed(0)
    perms = [random_derangement(s["contexts"], gen).to(device) for _ in range(steps)]

    def run_batched(n):
        for i in range(n):
            train_step(batched, opt_b, x, weight, "self" if i % 2 == 0 else "cross", perms[i % len(perms)])

    def run_naive(n):
        identity = torch.arange(s["contexts"])
        for i in range(n):
            naive_step(naive, opt_n, x, weight, identity if i % 2 == 0 else perms[i % len(perms)], device)

    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}, "
          f"{torch.get_num_threads()} threads); sizes {s}; {steps} steps x {args.rounds} rounds", flush=True)
    run_batched(2), run_naive(2)  # warm-up: allocator, kernels, Adam state
    times = {"batched": [], "naive": []}
    for _ in range(args.rounds):
        for name, fn in (("batched", run_batched), ("naive", run_naive)):
            sync(device)
            t = time.perf_counter()
            fn(steps)
            sync(device)
            times[name].append((time.perf_counter() - t) / steps)
    tb, tn = statistics.median(times["batched"]), statistics.median(times["naive"])
    result = {"naive_over_batched": tn / tb, "batched_step_ms": tb * 1e3, "naive_step_ms": tn * 1e3,
              "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device), "sizes": s}
    print(f"batched step {tb * 1e3:.2f} ms, naive step {tn * 1e3:.2f} ms: naive/batched = {tn / tb:.1f}x")
    if device.type == "cuda":
        flops = matmul_flops(s)
        tflops = flops / tb / 1e12
        name = torch.cuda.get_device_name(device)
        peak = args.peak_tflops or next((v for k, v in PEAKS.items() if k in name), None)
        share = f", {100 * tflops / peak:.0f}% of the {peak:.0f} TFLOP/s bf16 peak" if peak else ""
        print(f"batched: {flops / 1e9:.1f} GFLOP of matmuls per step, {tflops:.1f} TFLOP/s achieved{share}")
        result.update({"matmul_gflop_per_step": flops / 1e9, "batched_tflops": tflops, "peak_tflops": peak})
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
