"""MADE (Germain et al. 2015): an MLP autoencoder whose weight masks make output d depend only on
inputs earlier in an ordering, so the outputs are p(x_d | x_<d) and their product is an exact p(x).

Degrees (the lecture's numbers on the nodes): inputs get their position in the ordering, 1..D;
each hidden unit a degree drawn uniformly from [min degree of the layer below, D-1]; a hidden unit
sees units below of degree <= its own; output d sees the last hidden units of degree < m(d) (and,
with the direct connection, inputs of degree < m(d)). A bank of ``n_masks`` degree sets gives
order-agnostic (a new ordering per set) and connectivity-agnostic (new hidden degrees per set)
training; at test the ensemble is log mean_k p_k(x), the log of the mean *probability*.
Masks are rebuilt from the degrees on each forward: a few comparisons, no stored [K, H, D] banks.

Connectivity-agnostic training as the paper's (and its code's, mgermain/MADE): each minibatch under
a mask set drawn from the pool of K; the validation number after each epoch is mask set 0's exact
NLL (the paper's code validates on the ensemble: K times the cost, every epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import torch
import torch.nn.functional as F
from omegaconf import DictConfig
from torch import Tensor, nn

from sla_cli.density.base import DensityModel, log_mean_exp
from sla_cli.schema.density import ModelSettings, widths
from sla_cli.schema.fields import flag, integer


def make_degrees(
    d: int,
    hidden: list[int],
    n_masks: int,
    order_agnostic: bool,
    connectivity_agnostic: bool,
    generator: torch.Generator,
) -> list[Tensor]:
    """[input degrees [K, D]] + [hidden degrees [K, H_l] per layer], long, K = n_masks.

    Without order-agnostic training every set keeps the natural order 1..D; without
    connectivity-agnostic training every set keeps the first set's hidden degrees."""
    natural = torch.arange(1, d + 1)
    orders = [
        natural[torch.randperm(d, generator=generator)] if order_agnostic and k > 0 else natural for k in range(n_masks)
    ]
    degrees = [torch.stack(orders)]  # every order is a permutation of 1..D: the first layer's floor is 1
    low = torch.ones(n_masks, dtype=torch.long)
    for h in hidden:
        sets = n_masks if connectivity_agnostic else 1
        layer = (
            torch.stack(
                [
                    torch.randint(int(low[k]), d, (h,), generator=generator)  # uniform in [low, D-1]
                    for k in range(sets)
                ]
            )
            .expand(n_masks, h)
            .clone()
        )
        degrees.append(layer)
        low = layer.min(dim=1).values
    return degrees


@dataclass
class MadeSettings(ModelSettings):  # conf/density/models/made.yaml
    hidden: list[int] = widths()
    n_masks: int = integer(1, 4096)
    order_agnostic: bool = flag()
    connectivity_agnostic: bool = flag()
    direct: bool = flag()


class Made(DensityModel):
    name = "made"

    settings = MadeSettings

    @classmethod
    def build(cls, s: DictConfig, d: int, seed: int) -> Made:
        return cls(d, list(s.hidden), s.n_masks, s.order_agnostic, s.connectivity_agnostic, s.direct, seed=seed)

    def __init__(
        self,
        d: int,
        hidden: list[int],
        n_masks: int = 1,
        order_agnostic: bool = False,
        connectivity_agnostic: bool = False,
        direct: bool = False,
        seed: int = 0,
    ):
        super().__init__()
        if d < 2:
            raise ValueError("MADE needs at least 2 inputs")
        self.d, self.hidden, self.direct = d, list(hidden), direct
        self.n_masks = n_masks if (order_agnostic or connectivity_agnostic) else 1
        degrees = make_degrees(
            d, self.hidden, self.n_masks, order_agnostic, connectivity_agnostic, torch.Generator().manual_seed(seed)
        )
        for i, deg in enumerate(degrees):  # buffers: saved with the weights, moved with .to(device)
            self.register_buffer(f"degrees_{i}", deg)
        sizes = [d, *self.hidden, d]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(sizes))
        self.skip = nn.Linear(d, d, bias=False) if direct else None

    def degrees(self, k: int) -> list[Tensor]:
        return [getattr(self, f"degrees_{i}")[k] for i in range(len(self.hidden) + 1)]

    def order(self, k: int) -> Tensor:
        """Pixel indices in the order mask set k generates them."""
        return torch.argsort(self.degrees(k)[0])

    def masks(self, k: int) -> list[Tensor]:
        """Float masks [out, in] for each layer (and the direct connection last, if any). The last
        set used is kept: one mask set (or sampling, 784 passes) then builds them once."""
        key = (k, self.degrees_0.device)
        if getattr(self, "_cached", (None,))[0] != key:
            self._cached = (key, self._build_masks(k))
        return self._cached[1]

    def load_state_dict(self, *args, **kwargs):
        self.__dict__.pop("_cached", None)  # new degrees may come with the weights
        return super().load_state_dict(*args, **kwargs)

    def _build_masks(self, k: int) -> list[Tensor]:
        deg = self.degrees(k)
        out = [(deg[i + 1][:, None] >= deg[i][None, :]) for i in range(len(self.hidden))]
        out.append(deg[0][:, None] > deg[-1][None, :])  # strictly: output d never sees x_d
        if self.direct:
            out.append(deg[0][:, None] > deg[0][None, :])
        return [m.float() for m in out]

    def forward(self, x: Tensor, k: int = 0) -> Tensor:
        """Logits of p(x_d = 1 | x_<d) under mask set k, [B, D]."""
        masks = self.masks(k)
        h = x
        for i, layer in enumerate(self.layers):
            h = F.linear(h, layer.weight * masks[i], layer.bias)
            if i < len(self.layers) - 1:
                h = F.relu(h)
        if self.skip is not None:
            h = h + F.linear(x, self.skip.weight * masks[-1])
        return h

    def log_prob(self, x: Tensor, k: int = 0) -> Tensor:
        """Exact log p_k(x) in nats, [B]."""
        logits = self.forward(x, k).float()
        return -F.binary_cross_entropy_with_logits(logits, x.float(), reduction="none").sum(-1)

    def ensemble_log_prob(self, x: Tensor, n: int | None = None) -> Tensor:
        """log of the mean probability over the first n mask sets (all by default): a normalized
        mixture, unlike averaging logits."""
        n = self.n_masks if n is None else min(n, self.n_masks)
        return log_mean_exp(torch.stack([self.log_prob(x, k) for k in range(n)]))

    def samples_title(self) -> str:
        return f"MADE: ancestral samples ({self.n_masks} mask set(s))"

    def train_loss(self, x: Tensor) -> Tensor:
        """-log p_k(x) under one mask set k drawn from the pool for this minibatch."""
        return -self.log_prob(x, int(torch.randint(self.n_masks, ())))

    def val_loss(self, x: Tensor) -> Tensor:
        return -self.log_prob(x, 0)

    def test_nll(self, x: Tensor, c: DictConfig) -> Tensor:
        return -self.ensemble_log_prob(x)

    def test_setting(self, c: DictConfig) -> dict:
        return {
            "n_masks": self.n_masks,
            "test_nll": f"exact: log of the mean probability over {self.n_masks} mask set(s)",
        }

    def test_numbers(self, x: Tensor, c: DictConfig) -> dict[str, Tensor]:
        return {"test_nll_one_mask_nats": -self.log_prob(x, 0)} if self.n_masks > 1 else {}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """Ancestral samples from the ensemble: sample i uses mask set i mod K (a uniform mixture
        when n is a multiple of K); pixels drawn one at a time in that set's order."""
        device = self.degrees_0.device
        x = torch.zeros(n, self.d, device=device)
        groups = [torch.arange(k, n, self.n_masks) for k in range(min(n, self.n_masks))]
        for k, rows in enumerate(groups):
            xs = x[rows]
            for d in self.order(k).tolist():
                p = torch.sigmoid(self.forward(xs, k)[:, d].float())
                u = torch.rand(p.shape, generator=generator).to(device) if generator is not None else torch.rand_like(p)
                xs[:, d] = (u < p).float()
            x[rows] = xs
        return x
