"""Held-out numbers for a trained set: masked MSEs, the mean-image floor, and latent distances.

Every MSE is the training loss's measure (``loop.loss_weights``): per context, the mask**2-weighted
mean squared error per pixel, averaged over contexts and digits.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train.data import Dataset, to_batch
from sla_cli.train.loop import loss_weights

MEAN_IMAGE_DIGITS = 10_000  # the mean image of this many training digits is the floor's prediction


def _chunk(c: int, d: int, hidden: int) -> int:
    return max(1, 2**24 // (c * max(d, hidden)))  # about 64 MB of float32 activations per chunk


def mean_images(data: Dataset, device: torch.device) -> Tensor:
    """Each context's mean training image, [C, 1, D], from evenly spread training digits."""
    n = data.train_images.shape[0]
    rows = np.linspace(0, n - 1, min(n, MEAN_IMAGE_DIGITS)).round().astype(np.int64)
    total = torch.zeros(data.n_contexts, data.dim, dtype=torch.float64, device=device)
    for start in range(0, len(rows), 1024):
        total += to_batch(data.train_images[rows[start:start + 1024]], device).double().sum(1)
    return (total / len(rows)).float()[:, None, :]


def _weighted_sq(pred: Tensor, target: Tensor, weight: Tensor) -> float:
    return float(((pred - target).square() * weight).sum())  # summed over digits; divided by N later


@torch.no_grad()
def evaluate(model: AutoencoderSet, data: Dataset, device: torch.device, n_test: int, n_latent: int,
             seed: int) -> dict[str, float]:
    model.eval()
    c = data.n_contexts
    weight = loss_weights(torch.from_numpy(data.masks).to(device))
    mean = mean_images(data, device)
    gen = torch.Generator().manual_seed(seed + 1)  # the random context pairs of test_cross_mse
    n_test = min(n_test, data.test_images.shape[0])
    sums = {"self": 0.0, "cross": 0.0, "mean": 0.0}
    step = _chunk(c, data.dim, model.hidden)
    for start in range(0, n_test, step):
        x = to_batch(data.test_images[start:min(start + step, n_test)], device)
        b = x.shape[1]
        z = model.encode(x)
        sums["self"] += _weighted_sq(model.decode(z), x, weight)
        # decoder c gets the latent of a random other context, drawn per digit
        source = (torch.arange(c)[:, None] + torch.randint(1, max(c, 2), (c, b), generator=gen)) % c
        z_source = z[source.to(device), torch.arange(b, device=device)[None, :]]
        sums["cross"] += _weighted_sq(model.decode(z_source), x, weight)
        sums["mean"] += _weighted_sq(mean.expand_as(x), x, weight)
    same, different = latent_distances(model, data, device, n_latent)
    return {"test_self_mse": sums["self"] / n_test, "test_cross_mse": sums["cross"] / n_test,
            "mean_image_mse": sums["mean"] / n_test,
            "latent_distance_same_digit": same, "latent_distance_different_digit": different}


@torch.no_grad()
def encode_all(model: AutoencoderSet, images: np.ndarray, device: torch.device) -> Tensor:
    """uint8 [N, C, H, W] -> z[C, N, L]: every digit encoded by its own context's encoder."""
    n, c = images.shape[:2]
    step = _chunk(c, images[0, 0].size, model.hidden)
    return torch.cat([model.encode(to_batch(images[s:s + step], device)) for s in range(0, n, step)], dim=1).float()


def latent_distances(model: AutoencoderSet, data: Dataset, device: torch.device, n: int) -> tuple[float, float]:
    """Mean Euclidean distances: one digit encoded by two different contexts (should be small), and
    two digits of different classes encoded by the same context (the paper: 0.98 vs 6.21)."""
    n = min(n, data.test_images.shape[0])
    z = encode_all(model, data.test_images[:n], device)  # [C, N, L]
    c = z.shape[0]
    off_diagonal = ~torch.eye(c, dtype=torch.bool, device=device)
    same = torch.cdist(z.transpose(0, 1), z.transpose(0, 1))[:, off_diagonal].mean() if c > 1 else torch.tensor(0.0)
    labels = torch.as_tensor(data.test_labels[:n].astype(np.int64), device=device)
    differ = labels[:, None] != labels[None, :]
    different = torch.cdist(z, z)[:, differ].mean() if bool(differ.any()) else torch.tensor(float("nan"))
    return float(same), float(different)
