"""Every number of the report, from one feature space per method (latents of each model, pixels)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from sla_cli.errors import ConfigError
from sla_cli.eval.oneshot.protocols import Protocol, accuracy_matrix, summarize
from sla_cli.runtime import console

FIGURE_SOURCE = 10  # figure 9's source context when every context is a source (the paper's)


def source_contexts(value, n_contexts: int) -> np.ndarray:
    """``oneshot.source_context``: an index (clamped to the last context, with a note, so the
    default 10 works on small test sets) or "all"."""
    if value == "all":
        return np.arange(n_contexts)
    if value >= n_contexts:
        console.print(f"[yellow]oneshot.source_context={value} but the model has {n_contexts} contexts: "
                      f"using {n_contexts - 1}")
        value = n_contexts - 1
    if n_contexts < 2:
        raise ConfigError(f"one-shot transfer needs at least 2 contexts; the model has {n_contexts}")
    return np.array([value])


def protocol_results(space: Tensor, sources: np.ndarray, protocols: list[Protocol]) -> tuple[dict, dict]:
    """({protocol: summary}, {protocol: accuracy matrix [S, C]}) in one feature space [C, N, F]."""
    src = torch.as_tensor(sources, device=space.device)
    summaries, matrices = {}, {}
    for p in protocols:
        acc = accuracy_matrix(space, src, p).cpu().numpy()
        summaries[p.name], matrices[p.name] = summarize(acc, sources, len(p.classes)), acc
    return summaries, matrices
