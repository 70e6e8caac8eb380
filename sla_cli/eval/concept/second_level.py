"""The second level: one small autoencoder on likelihood maps, latent size 1 by default (section 11).

maps [K, C] -> hidden (tanh) -> latent (linear) -> hidden (tanh) -> C (linear). Maps are scaled to
unit standard deviation on the training cubes (their entries are small: a map sums to one), and the
latent is rescaled to 0..1 on the training cubes, so a sweep 0..1 covers what training saw. A
one-number bottleneck can fold (two far-apart angles on one latent value) from an unlucky start, so
``restarts`` seeds are trained and the lowest final training loss wins.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sla_cli.training import EachStep, Log, cosine_annealing, fit

FLOOR = 1.0
LOG_EVERY = 50  # steps between loss checks (one host sync each)


class MapAutoencoder(nn.Module):
    centre: Tensor  # buffers (register_buffer below)
    scale: Tensor
    low: Tensor
    high: Tensor

    def __init__(self, dim: int, hidden: int, latent: int):
        super().__init__()
        self.dim, self.hidden, self.latent = dim, hidden, latent
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, dim))
        # set after training: map scale, and each latent component's range on the training cubes
        self.register_buffer("centre", torch.zeros(dim))
        self.register_buffer("scale", torch.ones(dim))
        self.register_buffer("low", torch.zeros(latent))
        self.register_buffer("high", torch.ones(latent))

    def config(self) -> dict:
        return {"dim": self.dim, "hidden": self.hidden, "latent": self.latent}

    def standardise(self, maps: Tensor) -> Tensor:
        return (maps - self.centre) * self.scale

    def forward(self, maps: Tensor) -> Tensor:
        return self.decoder(self.encoder(self.standardise(maps))) / self.scale + self.centre

    def latent01(self, maps: Tensor) -> Tensor:
        """Latents [K, latent], rescaled so the training cubes span 0..1 in each component."""
        z = self.encoder(self.standardise(maps))
        return (z - self.low) / (self.high - self.low).clamp(min=1e-12)

    def decode01(self, u: Tensor) -> Tensor:
        """Maps [K, C] decoded at rescaled latents u [K, latent]."""
        return self.decoder(self.low + u * (self.high - self.low)) / self.scale + self.centre


def _train_one(
    maps: Tensor, hidden: int, latent: int, steps: int, batch_size: int, lr: float, generator: torch.Generator, on_step
) -> tuple[MapAutoencoder, float]:
    model = MapAutoencoder(maps.shape[1], hidden, latent).to(maps.device)
    with torch.no_grad():
        model.centre.copy_(maps.mean(0))
        sd = maps.std(0)
        model.scale.copy_(1.0 / sd.clamp(min=FLOOR * sd.median().item() + 1e-12))
    scaled = model.standardise(maps)

    def batch(step: int) -> Tensor:
        return scaled[torch.randint(len(maps), (min(batch_size, len(maps)),), generator=generator).to(maps.device)]

    def loss(x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        value = ((model.decoder(model.encoder(x)) - x) ** 2).mean()
        return value, {"second level": value}  # the name a divergence error gives it

    # the cosine settles the fit at the end; float32 throughout (no autocast), as before the engine
    fit(
        model,
        batch,
        loss,
        cosine_annealing(lr, steps),
        steps=steps,
        use_autocast=False,
        log=Log(
            LOG_EVERY, EachStep(lambda step, losses: on_step(losses["second level"])), hint="try a lower concept.lr"
        ),
    )
    with torch.no_grad():
        final = ((model.decoder(model.encoder(scaled)) - scaled) ** 2).mean().item()
    return model, final


def train(
    maps: Tensor,
    hidden: int,
    latent: int,
    steps: int,
    batch_size: int,
    lr: float,
    restarts: int,
    seed: int,
    on_step=lambda loss: None,
) -> tuple[MapAutoencoder, list[float]]:
    """The best of ``restarts`` trainings on maps [K, C]; returns it (eval mode, latent range set) and
    every restart's final full-batch loss (on the scaled maps)."""
    best: MapAutoencoder | None = None
    losses: list[float] = []
    for r in range(restarts):
        torch.manual_seed(seed * 1000 + r)
        model, loss = _train_one(
            maps, hidden, latent, steps, batch_size, lr, torch.Generator().manual_seed(seed * 1000 + r), on_step
        )
        losses.append(loss)
        if best is None or loss < min(losses[:-1]):
            best = model
    assert best is not None, "restarts >= 1"
    best.eval()
    with torch.no_grad():
        z = best.encoder(best.standardise(maps))
        best.low.copy_(z.min(0).values)
        best.high.copy_(z.max(0).values)
    return best, losses
