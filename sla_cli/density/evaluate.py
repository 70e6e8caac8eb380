"""The test numbers, read once at the end: per image, then their mean and its standard error over the
test images (the spread a repeat on other test images would show; for the VAE it includes the noise of
the IWAE samples, for a dynamic test binarization that of the draw).

Always in float32, even where training ran under bf16 autocast: bf16 logits summed over 784 pixels
would move a log-likelihood by tenths of a nat, the size of the differences being measured."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from omegaconf import DictConfig
from torch import Tensor

from sla_cli.density.base import DensityModel
from sla_cli.runtime import progress


@torch.no_grad()
def per_image(fn: Callable[[Tensor], dict[str, Tensor]], x: Tensor, batch: int, label: str) -> dict[str, Tensor]:
    """fn over x's rows, ``batch`` rows at a time; fn returns {name: one value per row}; float64 on the CPU."""
    parts: dict[str, list[Tensor]] = {}
    with progress() as bar:
        task = bar.add_task(label, total=x.shape[0], info="")
        for start in range(0, x.shape[0], batch):
            for name, values in fn(x[start : start + batch]).items():
                parts.setdefault(name, []).append(values.detach().double().cpu())
            bar.advance(task, min(batch, x.shape[0] - start))
    return {name: torch.cat(values) for name, values in parts.items()}


def mean_and_se(values: Tensor) -> tuple[float, float]:
    """The mean and its standard error (sample standard deviation / sqrt(n))."""
    n = values.numel()
    return float(values.mean()), float(values.std(unbiased=True) / math.sqrt(n)) if n > 1 else math.nan


def numbers(model: DensityModel, test: Tensor, c: DictConfig, label: str) -> dict:
    """The test NLL (when the model has one) and the model's other numbers, each with its standard error."""

    def fn(x: Tensor) -> dict[str, Tensor]:
        nll = {"test_nll_nats": model.test_nll(x, c)} if model.nll_kind != "none" else {}
        return {**nll, **model.test_numbers(x, c)}

    values = per_image(fn, test, c.eval_batch, f"test, {label}")
    out = {"test_nll_kind": model.nll_kind} if model.nll_kind != "none" else {}
    for name, v in values.items():
        out[name], out[name.removesuffix("_nats") + "_se_nats"] = mean_and_se(v)
    return out
