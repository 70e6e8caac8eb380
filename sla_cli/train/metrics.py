"""Held-out numbers for a trained set: masked MSEs, two floors, and latent distances.

Every MSE is the training loss's measure (``loop.loss_weights``): per context, the mask-weighted
mean squared error per pixel, averaged over digits and then over contexts: over all C contexts, and
again (``*_covered``) over the contexts whose mask covers at least ``MIN_COVERAGE`` of the frame (the
side faces seen almost edge-on cover a few pixels, and their MSE says little).

Two floors: ``mean_image_mse`` predicts each context's mean training image; ``class_mean_image_mse``
predicts the mean training image of the digit's own class in that context. Cross-transfer must beat
the second to show that the latent carries more than the label.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train.data import Dataset, to_batch
from sla_cli.train.loop import loss_weights

MEAN_IMAGE_DIGITS = 10_000  # the mean images of this many training digits are the floors' predictions
MIN_COVERAGE = 0.01  # a context counts as "covered" when its mask covers at least 1% of the frame
LATENT_MEASURE = (
    "mean Euclidean latent distance over {n} MNIST test digits: same digit, every pair of different "
    "contexts vs. different-class digits, same context; ratio = different / same (latent scales are "
    "arbitrary: only the ratio compares across models)"
)


def _chunk(c: int, d: int, hidden: int) -> int:
    return max(1, 2**24 // (c * max(d, hidden)))  # about 64 MB of float32 activations per chunk


def mean_images(data: Dataset, device: torch.device, n_classes: int = 10) -> tuple[Tensor, Tensor]:
    """Each context's mean training image [C, 1, D] and its mean image of each class [C, K, D], from
    evenly spread training digits (a class absent from them predicts the overall mean)."""
    n = data.train_images.shape[0]
    rows = np.linspace(0, n - 1, min(n, MEAN_IMAGE_DIGITS)).round().astype(np.int64)
    labels = torch.as_tensor(data.train_labels[rows].astype(np.int64), device=device)
    per_class = torch.zeros(data.n_contexts, n_classes, data.dim, dtype=torch.float64, device=device)
    for start in range(0, len(rows), 1024):
        x = to_batch(data.train_images[rows[start : start + 1024]], device).double()  # [C, b, D]
        per_class.index_add_(1, labels[start : start + 1024], x)
    counts = torch.bincount(labels, minlength=n_classes).double()
    overall = per_class.sum(1, keepdim=True) / len(rows)
    by_class = torch.where(counts[None, :, None] > 0, per_class / counts.clamp_min(1)[None, :, None], overall)
    return overall.float(), by_class.float()


def _per_context_sq(pred: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    """[C] weighted squared errors summed over digits and pixels (divided by N later)."""
    return ((pred - target).square() * weight).sum((1, 2)).double()


def covered_contexts(masks: np.ndarray) -> np.ndarray:
    return masks.reshape(masks.shape[0], -1).mean(1) >= MIN_COVERAGE


@torch.no_grad()
def evaluate(model: AutoencoderSet, data: Dataset, device: torch.device, n_test: int, n_latent: int, seed: int) -> dict:
    model.eval()
    c = data.n_contexts
    weight = loss_weights(torch.from_numpy(data.masks).to(device))
    mean, class_mean = mean_images(data, device)
    gen = torch.Generator().manual_seed(seed + 1)  # the random context pairs of test_cross_mse
    n_test = min(n_test, data.test_images.shape[0])
    sums = {k: torch.zeros(c, dtype=torch.float64, device=device) for k in ("self", "cross", "mean", "class_mean")}
    step = _chunk(c, data.dim, model.hidden)
    for start in range(0, n_test, step):
        x = to_batch(data.test_images[start : min(start + step, n_test)], device)
        labels = torch.as_tensor(data.test_labels[start : start + x.shape[1]].astype(np.int64), device=device)
        b = x.shape[1]
        z = model.encode(x)
        sums["self"] += _per_context_sq(model.decode(z), x, weight)
        # decoder c gets the latent of a random other context, drawn per digit
        source = (torch.arange(c)[:, None] + torch.randint(1, max(c, 2), (c, b), generator=gen)) % c
        z_source = z[source.to(device), torch.arange(b, device=device)[None, :]]
        sums["cross"] += _per_context_sq(model.decode(z_source), x, weight)
        sums["mean"] += _per_context_sq(mean.expand_as(x), x, weight)
        sums["class_mean"] += _per_context_sq(class_mean[:, labels.clamp_max(class_mean.shape[1] - 1)], x, weight)
    covered = torch.as_tensor(covered_contexts(data.masks), device=device)
    out = {}
    for key, name in (
        ("self", "test_self_mse"),
        ("cross", "test_cross_mse"),
        ("mean", "mean_image_mse"),
        ("class_mean", "class_mean_image_mse"),
    ):
        per_context = sums[key] * c / n_test  # each context's own masked MSE per pixel
        out[name] = float(per_context.mean())
        out[f"{name}_covered"] = float(per_context[covered].mean())
    out["contexts_covered"] = int(covered.sum())
    same, different = latent_distances(model, data, device, n_latent)
    out.update(
        latent_distance_same_digit=same,
        latent_distance_different_digit=different,
        latent_distance_ratio=different / same if same > 0 else float("nan"),
        latent_distance_measured=LATENT_MEASURE.format(n=min(n_latent, data.test_images.shape[0])),
    )
    return out


@torch.no_grad()
def encode_all(model: AutoencoderSet, images: np.ndarray, device: torch.device) -> Tensor:
    """uint8 [N, C, H, W] -> z[C, N, L]: every digit encoded by its own context's encoder."""
    n, c = images.shape[:2]
    step = _chunk(c, images[0, 0].size, model.hidden)
    return torch.cat([model.encode(to_batch(images[s : s + step], device)) for s in range(0, n, step)], dim=1).float()


def latent_distances(model: AutoencoderSet, data: Dataset, device: torch.device, n: int) -> tuple[float, float]:
    """Mean Euclidean distances: one digit encoded by two different contexts (should be small), and
    two digits of different classes encoded by the same context. (The paper's 0.98 vs 6.21 is one
    pair of unseen glyphs in contexts 10 and 99: the one-shot stage measures that.)"""
    n = min(n, data.test_images.shape[0])
    z = encode_all(model, data.test_images[:n], device)  # [C, N, L]
    c = z.shape[0]
    off_diagonal = ~torch.eye(c, dtype=torch.bool, device=device)
    same = torch.cdist(z.transpose(0, 1), z.transpose(0, 1))[:, off_diagonal].mean() if c > 1 else torch.tensor(0.0)
    labels = torch.as_tensor(data.test_labels[:n].astype(np.int64), device=device)
    differ = labels[:, None] != labels[None, :]
    different = torch.cdist(z, z)[:, differ].mean() if bool(differ.any()) else torch.tensor(float("nan"))
    return float(same), float(different)
