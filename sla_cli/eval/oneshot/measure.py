"""Every number of the report, tallied over glyph draws, one feature space per method.

A method is a feature space [C, N, F] per draw: ours (the shared latent space), the baselines'
latent spaces, the rendered frames (pixel NN), and the oracle: the flat 28x28 glyphs before
rendering, one space for every context (the geometry given for free: the ceiling a view-transfer
method must reach). Per protocol the tally keeps whether each probe was right in each (source,
context) pair, so the accuracy, its 95% interval (bootstrap over probes, and over draws when there
are several) and paired differences to ours all come from the same per-probe values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from sla_cli import stats
from sla_cli.errors import ConfigError
from sla_cli.eval.oneshot.distances import distance_samples, distance_stats
from sla_cli.eval.oneshot.protocols import Protocol, probe_correct, summarize
from sla_cli.runtime import console

FIGURE_SOURCE = 10  # figure 9's source context when every context is a source (the paper's)
OURS, ORACLE, PIXELS = "ours", "oracle_pixel_nn", "pixel_nn"


def source_contexts(value, n_contexts: int) -> np.ndarray:
    """``oneshot.source_context``: an index (clamped to the last context, with a note, so the
    default 10 works on small test sets) or "all"."""
    if value == "all":
        return np.arange(n_contexts)
    if value >= n_contexts:
        console.print(
            f"[yellow]oneshot.source_context={value} but the model has {n_contexts} contexts: using {n_contexts - 1}"
        )
        value = n_contexts - 1
    if n_contexts < 2:
        raise ConfigError(f"one-shot transfer needs at least 2 contexts; the model has {n_contexts}")
    return np.array([value])


def oracle_space(images: np.ndarray, device: torch.device) -> Tensor:
    """The glyphs as flat 28x28 vectors [1, N, 784] in 0..1: one 'context' that every context shares."""
    return torch.as_tensor(images, device=device).float().div(255).flatten(1)[None]


@dataclass
class Tally:
    sources: np.ndarray  # [S] source contexts
    n_contexts: int
    correct: dict = field(default_factory=dict)  # method -> protocol -> [per draw bool [S, C, p]]
    n_classes: dict = field(default_factory=dict)  # protocol -> k
    same: list = field(default_factory=list)  # per draw: our same-glyph latent distances
    different: list = field(default_factory=list)

    def add(self, method: str, space: Tensor, protocols: list[Protocol]) -> None:
        """One draw of one method; a space with one context (the oracle's) stands for every context."""
        src = torch.as_tensor(self.sources if space.shape[0] > 1 else [0], device=space.device)
        for p in protocols:
            right = probe_correct(space, src, p).cpu().numpy()
            right = np.broadcast_to(right, (len(self.sources), self.n_contexts, right.shape[-1]))
            self.correct.setdefault(method, {}).setdefault(p.name, []).append(right)
            self.n_classes[p.name] = len(p.classes)

    def add_distances(self, z: Tensor, labels: np.ndarray) -> None:
        same, different = distance_samples(z, labels, torch.as_tensor(self.sources, device=z.device))
        self.same.append(same.cpu())
        self.different.append(different.cpu())

    def distance(self) -> dict:
        return distance_stats(torch.cat(self.same), torch.cat(self.different))

    def _other(self) -> np.ndarray:
        return np.arange(self.n_contexts)[None, :] != self.sources[:, None]  # [S, C]: pairs across contexts

    def per_probe(self, method: str, protocol: str) -> tuple[np.ndarray, np.ndarray]:
        """(each probe's accuracy over the (source, other context) pairs, the draw it came from)."""
        draws = self.correct[method][protocol]
        other = self._other()
        values = np.concatenate([d[other].mean(0) for d in draws])
        groups = np.concatenate([np.full(d.shape[-1], i) for i, d in enumerate(draws)])
        return values, groups

    def summary(self, method: str, protocol: str, seed: int) -> dict:
        """summarize() of the draws pooled (probes side by side), with its 95% interval."""
        draws = self.correct[method][protocol]
        pooled = np.concatenate(draws, axis=-1).mean(-1)  # [S, C]
        out = summarize(pooled, self.sources, self.n_classes[protocol])
        values, groups = self.per_probe(method, protocol)
        ci = stats.bootstrap_mean(values, groups if len(draws) > 1 else None, seed=seed)
        out.update(ci95=[round(ci.low, 4), round(ci.high, 4)], n_probes=int(len(values)))
        if len(draws) > 1:
            other = self._other()
            out["per_draw_mean_accuracy"] = [round(float(d[other].mean()), 4) for d in draws]
        return out

    def summaries(self, method: str, seed: int) -> dict:
        return {p: self.summary(method, p, seed) for p in self.correct[method]}

    def ours_minus(self, baseline: str, seed: int) -> dict:
        """Per protocol: mean accuracy of ours - the baseline's, on the same probes, with its 95% interval."""
        out = {}
        for p in self.correct[OURS]:
            ours, groups = self.per_probe(OURS, p)
            theirs, _ = self.per_probe(baseline, p)
            d = stats.bootstrap_paired_difference(ours, theirs, groups if groups.max() > 0 else None, seed=seed)
            out[p] = {"difference": round(d.estimate, 4), "ci95": [round(d.low, 4), round(d.high, 4)]}
        return out
