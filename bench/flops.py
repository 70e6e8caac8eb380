"""FLOPs of one training step of the set, counted from the shapes (bench/train_step.py, the scale study).

Per step, self and cross steps alike, with P = C * B rows (every context's view of every digit in
the batch), D pixels, H hidden units, L latent units:

  matmuls      forward: the encoder's 2P(DH + HL) and the decoder's 2P(LH + HD) (tied weights: the
               encoder's, transposed). Backward: each layer's weight gradient (the forward count again)
               and the input gradient of every layer but the first (the images need none):
               2P(HL + LH + HD). In all 10PDH + 12PHL.
  loss, masks  per output pixel, forward: sigmoid 4 (negate, exp, add, reciprocal), residual 1,
               square 1, mask weight 1, sum 1; backward: mask weight times residual 1, sigmoid's
               derivative 3. In all 12PD.
  layers       bias adds and their gradients' sums 2P(2H + L + D); ReLU and its backward 4PH; the
               two halves of each tied weight's gradient added, C(DH + HL).
  Adam         13 per parameter: the moments (3 and 4), square root, bias correction, eps, divide,
               scale and subtract.

Not counted: data loading, the derangement, evaluation. The matmuls are 94-99% of the count at
the shapes this project trains, so the share of the matmul peak is the share that matters.
"""

from __future__ import annotations

ADAM_FLOPS_PER_PARAMETER = 13


def n_parameters(contexts: int, dim: int, hidden: int, latent: int) -> int:
    """The tied set's parameters: W1 [D, H], W2 [H, L] and four biases per context."""
    return contexts * (dim * hidden + hidden * latent + hidden + latent + hidden + dim)


def step_flops(contexts: int, dim: int, hidden: int, latent: int, batch: int) -> dict[str, float]:
    """{"matmul", "loss", "layers", "adam", "total"}: FLOPs of one training step (see the module doc)."""
    c, d, h, lat = contexts, dim, hidden, latent
    p = c * batch
    counts = {
        "matmul": 10 * p * d * h + 12 * p * h * lat,
        "loss": 12 * p * d,
        "layers": 2 * p * (2 * h + lat + d) + 4 * p * h + c * (d * h + h * lat),
        "adam": ADAM_FLOPS_PER_PARAMETER * n_parameters(c, d, h, lat),
    }
    counts["total"] = sum(counts.values())
    return {k: float(v) for k, v in counts.items()}


def run_flops(contexts: int, dim: int, hidden: int, latent: int, batch: int, steps: int) -> float:
    """A whole training run's FLOPs (the steps only; evaluation is not counted)."""
    return steps * step_flops(contexts, dim, hidden, latent, batch)["total"]
