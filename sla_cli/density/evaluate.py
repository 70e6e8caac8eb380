"""Final test numbers, in nats per image, computed over the fixed binarized test set in batches.

Always in float32, even where training ran under bf16 autocast: bf16 logits summed over 784 pixels
would move a log-likelihood by tenths of a nat, the size of the differences being measured."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from sla_cli.density.dae import Dae, corrupt
from sla_cli.density.made import Made
from sla_cli.density.vae import Vae
from sla_cli.runtime import progress


@torch.no_grad()
def batched_mean(fn: Callable[[Tensor], Tensor], x: Tensor, batch: int, label: str) -> float:
    """Mean of fn over x's rows, ``batch`` rows at a time (fn returns one value per row)."""
    total = 0.0
    with progress() as bar:
        task = bar.add_task(label, total=x.shape[0], info="")
        for start in range(0, x.shape[0], batch):
            total += float(fn(x[start:start + batch]).float().sum())
            bar.advance(task, min(batch, x.shape[0] - start))
    return total / x.shape[0]


def made_numbers(model: Made, test: Tensor, batch: int) -> dict:
    ensemble = -batched_mean(model.ensemble_log_prob, test, batch, f"test NLL, {model.n_masks} mask(s)")
    numbers = {"test_nll_nats": ensemble, "n_masks": model.n_masks}
    if model.n_masks > 1:  # what the ensemble buys over its first mask alone
        numbers["test_nll_one_mask_nats"] = -batched_mean(model.log_prob, test, batch, "test NLL, mask 0")
    return numbers


def vae_numbers(model: Vae, test: Tensor, batch: int, k: int, chunk: int) -> dict:
    elbo = -batched_mean(model.elbo, test, batch, "test ELBO")
    iwae = -batched_mean(lambda x: model.iwae_estimate(x, k, chunk), test, batch, f"test IWAE, k={k}")
    return {"test_elbo_nats": elbo, "test_iwae_nats": iwae, "iwae_k": k, "test_nll_nats": iwae}


def dae_numbers(model: Dae, test: Tensor, batch: int) -> dict:
    """Reconstruction cross-entropies; a DAE has no normalized likelihood (it defines a chain)."""
    denoise = batched_mean(lambda x: model.cross_entropy(corrupt(x, model.noise, model.level), x), test, batch,
                           "test denoising CE")
    clean = batched_mean(lambda x: model.cross_entropy(x, x), test, batch, "test reconstruction CE")
    return {"test_denoising_ce_nats": denoise, "test_reconstruction_ce_nats": clean}
