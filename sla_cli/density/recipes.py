"""What differs between the three models: how each is built from the config, its training loss,
the per-epoch test curve, the final numbers and the samples figure. A DAE run trains two members,
the plain and the walkback scheme, so their chains can be compared."""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from sla_cli.density import evaluate, figures
from sla_cli.density.dae import Dae, corrupt
from sla_cli.density.made import Made
from sla_cli.density.vae import Vae

MODELS = ("dae", "made", "vae")
D = 784


def member_names(cfg: DictConfig) -> list[str]:
    return ["plain", "walkback"] if cfg.density.model == "dae" else [cfg.density.model]


def build(cfg: DictConfig) -> dict[str, nn.Module]:
    c = cfg.density
    if c.model == "made":
        m = c.made
        return {"made": Made(D, list(m.hidden), m.n_masks, m.order_agnostic, m.connectivity_agnostic, m.direct,
                             seed=cfg.seed)}
    if c.model == "vae":
        return {"vae": Vae(D, list(c.vae.hidden), c.vae.latent)}
    d = c.dae
    return {name: Dae(D, list(d.hidden), d.noise, d.level, walkback=steps)
            for name, steps in (("plain", 1), ("walkback", d.walkback))}


@torch.no_grad()
def init_output_bias(members: dict[str, nn.Module], grey: Tensor) -> None:
    """Start every output at the training set's pixel means (as Burda et al. do): the first
    epochs then learn structure instead of the average image."""
    p = grey.mean(0).clamp(1e-3, 1 - 1e-3)
    for model in members.values():
        last = [m for m in model.modules() if isinstance(m, nn.Linear) and m.out_features == D and m.bias is not None]
        last[-1].bias.copy_(torch.log(p) - torch.log1p(-p))


def loss(cfg: DictConfig):
    """(model, binary batch) -> loss per image in nats."""
    c = cfg.density
    if c.model == "made":
        # connectivity/order-agnostic training: each minibatch under one mask set drawn at random
        return lambda model, x: -model.log_prob(x, int(torch.randint(model.n_masks, ())))
    if c.model == "vae":
        k = c.vae.train_k
        return (lambda model, x: -model.elbo(x)) if k == 1 else (lambda model, x: -model.iwae_bound(x, k))
    return lambda model, x: model.train_loss(x)


def curve_loss(cfg: DictConfig):
    """A cheap test number after each epoch: MADE's first mask NLL, the VAE's -ELBO, the DAE's denoising CE."""
    c = cfg.density
    if c.model == "made":
        return lambda model, x: -model.log_prob(x, 0).mean()
    if c.model == "vae":
        return lambda model, x: -model.elbo(x).mean()
    # the one-step denoising loss for both members, so plain and walkback curves compare
    return lambda model, x: model.cross_entropy(corrupt(x, model.noise, model.level), x).mean()


def ylabel(cfg: DictConfig) -> str:
    return {"made": "NLL (nats per image)", "vae": "-ELBO (nats per image)",
            "dae": "cross-entropy, nats per image\n(train: the member's own loss; test: one denoising step)",
            }[cfg.density.model]


def numbers(cfg: DictConfig, members: dict[str, nn.Module], test: Tensor) -> dict:
    c = cfg.density
    if c.model == "made":
        return evaluate.made_numbers(members["made"], test, c.eval_batch)
    if c.model == "vae":
        return evaluate.vae_numbers(members["vae"], test, c.eval_batch, c.iwae_k, c.iwae_chunk)
    return {name: evaluate.dae_numbers(m, test, c.eval_batch) for name, m in members.items()}


@torch.no_grad()
def samples(cfg: DictConfig, members: dict[str, nn.Module], device: torch.device):
    c = cfg.density
    if c.model == "made":
        return figures.samples_figure(members["made"].sample(c.n_samples),
                                      f"MADE: ancestral samples ({members['made'].n_masks} mask set(s))")
    if c.model == "vae":
        return figures.samples_figure(members["vae"].sample(c.n_samples), "VAE: decoder means of z ~ N(0, I)")
    d = c.dae
    noise = torch.bernoulli(torch.full((d.chains, D), 0.5, device=device))  # every chain starts from noise
    chains = {name: m.chain(noise, d.chain_steps) for name, m in members.items()}
    return figures.chains_figure(chains, max(1, d.chain_steps // 10))
