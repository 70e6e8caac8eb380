"""`sla train`'s variants: the set (the model) and the one-shot stage's two trained baselines.

- ``set``: the paper's C context autoencoders, self- and cross-trained (``loop``).
- ``shared_ae``: ONE autoencoder of the same shape (model.hidden, latent, tied) trained on every
  context's images mixed: each step's loss is the set's self loss (``loop.step_losses``, kind "self":
  each context's mask weighting its own images) with the one member serving every row. No
  per-context members, no cross steps.
- ``contrastive``: the set's C encoders, no decoders, trained with symmetric InfoNCE
  (``contrastive.info_nce``, temperature ``train.temperature``) on the pairs the set's cross steps use.

Same budget: every variant takes train.steps Adam steps at train.lr on batches of train.batch_size
digits, each seen in all C contexts (the very same draws: ``Trainer._batch`` is shared). The FLOPs
differ and are written to the manifest (``budget``).
"""

from __future__ import annotations

import copy

import torch
from omegaconf import DictConfig, open_dict
from torch import Tensor

from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.train import contrastive, metrics
from sla_cli.train.data import Dataset
from sla_cli.train.loop import step_losses

LOSSES = {"set": ("self", "cross"), "shared_ae": ("self",), "contrastive": ("contrastive",)}
SET_ONLY = ("schedule", "self_steps", "cross_steps", "cross_weight")  # the set's self/cross schedule


def unused_keys(variant: str) -> tuple[str, ...]:
    """train.* keys the variant does not read: left out of its run's identity and resume key, so a set
    run's identity is what it was before variants existed (its folders are still recognised)."""
    return {"set": ("variant", "temperature"), "shared_ae": ("temperature", *SET_ONLY), "contrastive": SET_ONLY}[
        variant
    ]


def without_unused_keys(cfg: DictConfig) -> DictConfig:
    """A copy of ``cfg`` less the train.* keys its variant does not read (``unused_keys``)."""
    run_cfg = copy.deepcopy(cfg)
    with open_dict(run_cfg.train):  # the section's own flag: a typed section refuses pop otherwise
        for key in unused_keys(cfg.train.variant):
            run_cfg.train.pop(key, None)
    return run_cfg


def validate(cfg: DictConfig) -> None:
    """The combinations a baseline variant refuses (train.variant's choices: sla_cli/schema/train.py)."""
    variant = cfg.train.variant
    if variant == "set":
        return
    t, m = cfg.train, cfg.model
    if t.schedule == "mixed" or t.cross_steps == 0:
        what = "train.schedule=mixed" if t.schedule == "mixed" else "train.cross_steps=0"
        raise ConfigError(
            f"{what} is the set's self/cross schedule; train.variant={variant} takes one kind of step "
            "(the self-training-only ablation is train.variant=set train.cross_steps=0)"
        )
    if variant == "shared_ae" and m.learn_sigma:
        raise ConfigError(
            "model.learn_sigma=true is the set's per-context sigma; train.variant=shared_ae "
            "takes model.learn_sigma=false"
        )
    if variant == "contrastive":
        if m.learn_sigma or not m.tied:
            what = "model.learn_sigma=true" if m.learn_sigma else "model.tied=false"
            raise ConfigError(
                f"{what} concerns a decoder; train.variant=contrastive trains encoders only "
                "(leave model.tied and model.learn_sigma at their defaults)"
            )
        if value(cfg, "train.views_per_digit") == 1:
            raise ConfigError(
                "train.views_per_digit=1 leaves train.variant=contrastive no pairs (a pair is two "
                "views of one digit): use k >= 2"
            )


def loss_names(variant: str) -> tuple[str, ...]:
    return LOSSES[variant]


def baseline_loss(
    variant: str, model, x: Tensor, weight: Tensor, perm: Tensor, seen: Tensor | None, temperature: float
) -> tuple[Tensor, dict]:
    """A baseline's objective for the training engine (``fit``'s own Adam step; the set's step is
    ``loop.train_step``) on the set's batch ``x[C, B, D]``, with the set's cross pairs ``perm``."""
    if variant == "shared_ae":
        loss = step_losses(model, x, weight, "self", perm, seen)["self"]
        return loss, {"self": loss}
    loss = contrastive.info_nce(model.encode(x), perm, seen, temperature)
    return loss, {"contrastive": loss}


def evaluate(variant: str, model, data: Dataset, device: torch.device, cfg: DictConfig) -> dict:
    """metrics.json's held-out numbers: the set's masked MSEs and floors for an autoencoder (the set,
    the shared one), the InfoNCE numbers for the contrastive encoders."""
    e = cfg.metrics
    if variant == "contrastive":
        return contrastive.evaluate(
            model, data, device, e.test_digits, e.latent_digits, cfg.train.batch_size, cfg.train.temperature, cfg.seed
        )
    return metrics.evaluate(model, data, device, e.test_digits, e.latent_digits, cfg.seed)


def budget(variant: str, cfg: DictConfig, data: Dataset, model) -> dict:
    """What "same budget" means, for the manifest: the same steps, digits per step, optimizer and
    learning rate for every variant, and each one's training FLOPs (an estimate: 2 per multiply-add of
    the weight matrices, backward = 2 x forward; biases, activations and the optimizer left out)."""
    t, m = cfg.train, cfg.model
    c, b, d, h, latent = data.n_contexts, t.batch_size, data.dim, m.hidden, m.latent
    coder = 2 * h * (d + latent)  # FLOPs of one image through one encoder (or one decoder)
    images = c * b  # every digit of the batch in every context
    if variant == "contrastive":
        per_step = 3 * (images * coder + 2 * c * b * b * latent)  # encodes, and each context's B x B cosines
        passes = "C x B encodes and C B x B cosine matrices per step"
    else:
        decodes = 2 if variant == "set" and t.schedule == "mixed" else 1  # mixed: a self and a cross decode
        per_step = 3 * images * coder * (1 + decodes)
        passes = f"C x B encodes and {decodes} x C x B decodes per step"
    return {
        "steps": int(t.steps),
        "digits_per_step": int(b),
        "contexts": c,
        "images_per_step": images,
        "optimizer": f"Adam, lr {t.lr} (constant)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "flops_per_step": per_step,
        "train_flops": per_step * int(t.steps),
        "flops_measured": f"estimate: {passes}; 2 FLOPs per multiply-add of the weights, backward = 2 x "
        "forward; biases, activations and Adam's update left out",
        "same_as_the_set": "steps, digits per step (each in all C contexts, the same draws), optimizer and "
        "learning rate; not FLOPs or parameters",
    }
