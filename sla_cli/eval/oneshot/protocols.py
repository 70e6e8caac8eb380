"""The three one-shot protocols and nearest-prototype accuracy, on any per-context feature space.

A feature space is ``[C, N, F]``: every glyph instance n as seen by context c (latent codes from
encoder c, or the raw pixels of its render in c). A protocol names which instances are the
prototypes and which are the probes. For a source context s the prototypes are taken from s; each
probe, in every context c, goes to the nearest prototype (Euclidean). The result is, for the S
source contexts asked for, whether each probe was right in each context ([S, C, p]) and its mean,
the accuracy matrix [S, C].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

PROTOCOLS = ("paper", "same_instance", "new_instances")
PAPER_PAIR = ("check", "plus")  # figure 8's two patterns
WORK_ELEMENTS = 2**24  # distances per chunk of source contexts (64 MB of float32)


@dataclass
class GlyphSet:
    source: str  # "builtin" or the folder the user gave
    names: list[str]  # class names, in class-index order
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int64 [N]: class index of each instance
    prototypes: np.ndarray  # int64 [K]: the row of each class's prototype (its first instance)
    details: dict = field(default_factory=dict)  # how this draw was made (seed, typefaces...), for oneshot.json

    @classmethod
    def from_classes(cls, source: str, names: list[str], per_class: list[np.ndarray], **details) -> GlyphSet:
        """Instances grouped by class; each class's first instance is its prototype."""
        counts = [len(a) for a in per_class]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        labels = np.repeat(np.arange(len(names)), counts).astype(np.int64)
        return cls(source, list(names), np.concatenate(per_class).astype(np.uint8), labels, starts, details)


@dataclass
class Protocol:
    name: str
    classes: np.ndarray  # [k] class indices taking part
    proto_rows: np.ndarray  # [k] instance rows of their prototypes
    probe_rows: np.ndarray  # [p] instance rows probed in every context
    probe_class: np.ndarray  # [p] position in ``classes`` of each probe's true class


def protocols(glyphs: GlyphSet) -> list[Protocol]:
    """paper: two-way, the check and the plus (or the first two classes), each probed with its own
    prototype instance; same_instance: the same, for every class; new_instances: every class's
    other instances probed against the prototypes (the honest one-shot test)."""
    k = len(glyphs.names)
    pair = [glyphs.names.index(n) for n in PAPER_PAIR] if set(PAPER_PAIR) <= set(glyphs.names) else [0, 1]
    pair = np.array(pair, dtype=np.int64)
    every = np.arange(k, dtype=np.int64)
    others = np.setdiff1d(np.arange(len(glyphs.labels)), glyphs.prototypes)
    return [
        Protocol("paper", pair, glyphs.prototypes[pair], glyphs.prototypes[pair], np.arange(2)),
        Protocol("same_instance", every, glyphs.prototypes, glyphs.prototypes, every),
        Protocol("new_instances", every, glyphs.prototypes, others, glyphs.labels[others]),
    ]


def accuracy_matrix(space: Tensor, sources: Tensor, protocol: Protocol) -> Tensor:
    """[S, C] accuracy: prototypes from each source context, probes classified in every context."""
    return probe_correct(space, sources, protocol).float().mean(-1)


def probe_correct(space: Tensor, sources: Tensor, protocol: Protocol) -> Tensor:
    """bool [S, C, p]: probe p, seen in context c, goes to its own class's prototype from source s."""
    dev = space.device
    rows = torch.as_tensor(protocol.proto_rows, device=dev)
    probes = space[:, torch.as_tensor(protocol.probe_rows, device=dev)].float()  # [C, p, F]
    truth = torch.as_tensor(protocol.probe_class, device=dev)
    probe_sq = probes.square().sum(-1)  # [C, p]
    c, p = probes.shape[:2]
    step = max(1, WORK_ELEMENTS // max(1, c * p * len(rows)))
    out = []
    for start in range(0, len(sources), step):  # chunks of sources bound memory; contexts stay batched
        protos = space[sources[start : start + step]][:, rows].float()  # [s, k, F]
        # |a - b|^2 = |a|^2 + |b|^2 - 2ab, as one matmul; the argmin needs no sqrt
        d = (
            probe_sq[None, :, :, None]
            + protos.square().sum(-1)[:, None, None, :]
            - 2 * torch.einsum("cpf,skf->scpk", probes, protos)
        )
        out.append(d.argmin(-1) == truth)
    return torch.cat(out)


def summarize(acc: np.ndarray, sources: np.ndarray, n_classes: int) -> dict:
    """The report's numbers for one protocol. Mean and min are over (source, context) pairs with
    context != source (one-shot transfer proper); per_context_accuracy[c] is the mean over sources
    other than c (with one source, its own entry is that source's accuracy on its own context);
    contexts_all_correct counts the contexts where every probe is right among the C - 1 contexts other
    than the source (in the source, the paper's probe is the prototype itself), averaged over sources."""
    s, c = acc.shape
    other = np.arange(c)[None, :] != sources[:, None]
    per_context = np.where(other.any(0), (acc * other).sum(0) / np.maximum(other.sum(0), 1), acc[0])
    pairs = acc[other] if other.any() else acc.ravel()
    all_right = ((acc == 1.0) & other).sum(1).mean()
    return {
        "n_classes": int(n_classes),
        "per_context_accuracy": [round(float(a), 4) for a in per_context],
        "mean_accuracy": round(float(pairs.mean()), 4),
        "min_accuracy": round(float(pairs.min()), 4),
        "contexts_all_correct": int(all_right) if s == 1 else round(float(all_right), 2),
        "other_contexts": c - 1,
    }
