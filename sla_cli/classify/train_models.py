"""A seed's three classifiers, each trained on every recipe of the grid and kept at its best on the
validation split: the set of class autoencoders, the MLP of the same width (the paper's control) and
the MLP with about the set's parameter count (two hidden layers).

The validation split picks; the test split is never looked at here. The set is compared by its
recon scoring, the one that fits nothing on the validation split (full and calibrated do).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from sla_cli.classify import recipe as recipes
from sla_cli.classify.class_autoencoders import train_class_autoencoders
from sla_cli.classify.data import Split
from sla_cli.classify.metrics import accuracy
from sla_cli.classify.mlp import Mlp, matched_width, mlp_logits, parameter_count, train_mlp
from sla_cli.classify.model_checkpoints import ModelCheckpoint, SeedCheckpoints
from sla_cli.classify.scoring import recon_logits
from sla_cli.models.ae_set import AutoencoderSet

KINDS = ("ae_set", "mlp", "mlp_matched")
SELECTED_BY = {"ae_set": "val accuracy of the recon scoring", "mlp": "val accuracy", "mlp_matched": "val accuracy"}


@dataclass
class SeedModels:
    ae: AutoencoderSet
    mlp: Mlp
    mlp_matched: Mlp
    tuning: dict = field(default_factory=dict)  # per kind: every recipe tried, its val accuracy, the one kept
    seconds: dict = field(default_factory=dict)  # training wall time per kind, the whole grid

    def by_kind(self) -> dict:
        return {"ae_set": self.ae, "mlp": self.mlp, "mlp_matched": self.mlp_matched}


def set_parameter_count(c, dim: int = 784, n_classes: int = 10) -> int:
    with torch.device("meta"):  # shapes only: no memory, no random numbers drawn
        return parameter_count(_empty_set(c, dim, n_classes))


def _empty_set(c, dim: int, n_classes: int) -> AutoencoderSet:
    return AutoencoderSet(
        n_classes, dim, c.autoencoder.hidden, c.autoencoder.latent, tied=True, learn_sigma=c.autoencoder.learn_sigma
    )


def matched_hidden(c, dim: int = 784, n_classes: int = 10) -> int:
    """The width of the parameter-matched MLP's hidden layers (classify.mlp_matched.layers of them)."""
    return matched_width(set_parameter_count(c, dim, n_classes), dim, n_classes, c.mlp_matched.layers)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _train(kind: str, c, r: recipes.Recipe, train: Split, device, seed: int, label: str, checkpoint):
    if kind == "ae_set":
        return train_class_autoencoders(
            train,
            10,
            c.autoencoder.hidden,
            c.autoencoder.latent,
            r,
            c.train.batch_size,
            c.train.lr,
            c.autoencoder.loss,
            c.autoencoder.learn_sigma,
            device,
            seed,
            label,
            checkpoint,
        )
    if kind == "mlp":
        return train_mlp(
            train, 10, c.mlp.hidden, r, c.mlp.batch_size, c.train.lr, device, seed, label, checkpoint=checkpoint
        )
    return train_mlp(
        train,
        10,
        matched_hidden(c),
        r,
        c.mlp_matched.batch_size,
        c.train.lr,
        device,
        seed,
        label,
        layers=c.mlp_matched.layers,
        checkpoint=checkpoint,
    )


def val_accuracy(kind: str, model, val: Split, batch: int) -> float:
    logits = recon_logits(model, val.x, batch) if kind == "ae_set" else mlp_logits(model, val.x)
    return accuracy(logits, val.y)


def train_seed(
    c, seed: int, train: Split, val: Split, device: torch.device, checkpoints: SeedCheckpoints | None = None
) -> SeedModels:
    """Every kind on every recipe of ``recipe.grid(c)``, each run from the same seed; the best on
    validation kept (ties: the first in grid order). ``checkpoints``: a killed run's models are read
    back or continued (``model_checkpoints``). Seconds per kind: the grid's training and validation
    time, a resumed model's earlier training included."""
    grid = recipes.grid(c)
    kept: dict[str, Any] = {}
    tuning, seconds = {}, {}
    for kind in KINDS:
        best, tried, seconds[kind] = None, [], 0.0
        for i, r in enumerate(grid):
            record = checkpoints.record(kind, i) if checkpoints is not None else None
            if record is not None:  # trained by a killed run, and beaten: only its accuracy is needed
                model, acc, spent = None, record["val_accuracy"], record["seconds"]
            else:
                checkpoint = checkpoints.model(kind, i) if checkpoints is not None else None
                model, acc, spent = _train_and_score(kind, c, r, i, len(grid), train, val, device, seed, checkpoint)
            seconds[kind] += spent
            tried.append({**r.as_dict(), "val_accuracy": acc})
            if best is None or acc > best[1]:
                if best is not None and checkpoints is not None and best[0] is not None:
                    checkpoints.drop(kind, best[3], best[1], best[4])
                best = (model, acc, r, i, spent)
            elif checkpoints is not None and record is None:
                checkpoints.drop(kind, i, acc, spent)
        # never None: a recipe is only recorded without its model once another, kept, beat it
        assert best[0] is not None
        kept[kind] = best[0]
        tuning[kind] = {
            "chosen": best[2].as_dict(),
            "val_accuracy": best[1],
            "tried": tried,
            "selected_by": SELECTED_BY[kind],
        }
    return SeedModels(kept["ae_set"], kept["mlp"], kept["mlp_matched"], tuning, seconds)


def _train_and_score(kind, c, r, i: int, n: int, train, val, device, seed: int, checkpoint: ModelCheckpoint | None):
    """(model, its validation accuracy, seconds: training and scoring, a resumed model's earlier training included)."""
    t0 = time.perf_counter()
    tag = f" [{i + 1}/{n}: {r.name()}]" if n > 1 else ""
    model = _train(kind, c, r, train, device, seed, f"seed {seed} {kind}{tag}", checkpoint)
    acc = val_accuracy(kind, model, val, c.full.batch)
    _sync(device)
    earlier = checkpoint.restored_seconds if checkpoint is not None else 0.0
    return model, acc, time.perf_counter() - t0 + earlier


def winner_on_validation(tuning: dict) -> str:
    """The kind whose kept model scored best on validation (set: recon)."""
    return max(KINDS, key=lambda k: tuning[k]["val_accuracy"])
