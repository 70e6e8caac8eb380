"""Checkpoints inside a seed of `sla classify`: one paper-preset seed is hours of one CPU core (the
set, then the MLP, then the MLP of the set's parameter count, 30 epochs each), longer than a sitting,
so a killed run continues inside the seed, at the last finished epoch of the model it was training.

Under ``checkpoints/seed<N>/`` (unlisted, removed with the seed's own checkpoint once the run is
complete), each model of the seed, one per kind and validation-grid recipe ``<kind>_<i>``, has:

- while it trains: ``<kind>_<i>/checkpoints/step_*.pt``, the training engine's checkpoint (model,
  Adam, random states) at the end of an epoch, every ``MIN_STEPS_BETWEEN`` steps or more, and at the
  end, so resuming it gives the same weights bit for bit;
- once trained and scored on validation, if it is the best of its kind so far: that folder is kept
  (its last checkpoint is the trained model); otherwise ``<kind>_<i>.pt`` records its validation
  accuracy and training seconds, and the folder goes (a grid of eight recipes keeps two models a kind);
- for ``classify.density_classifier=made|vae|dae``, each class model's ``<kind>_class<c>/checkpoints/``
  (sla density's loop, its early-stopping state included).

A checkpoint counts only for the same experiment less ``classify.seeds`` (``seed_checkpoints.key``),
the same seed, kind and recipe. ``run.resume=false`` or ``run.overwrite=true`` trains from scratch.
Off under torchrun: its ranks would race on the files, and a GPU run is minutes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sla_cli import distributed, runfolder
from sla_cli.classify import seed_checkpoints
from sla_cli.errors import DataError
from sla_cli.runtime import console
from sla_cli.training import Checkpoints
from sla_cli.training import checkpoint as checkpoint_files

DIR = "checkpoints"
# steps between a model's checkpoints, at least (whole epochs): with train_per_class=100 an epoch is 4
# steps, and a checkpoint each would write gigabytes; at the paper preset it is every 2-6 epochs
MIN_STEPS_BETWEEN = 500


@dataclass
class ModelCheckpoint:
    """One model's checkpoints, handed to its trainer: ``engine(steps_per_epoch)`` gives ``fit`` its
    ``Checkpoints`` (at epoch ends, the newest kept) and the state to resume from (None: from scratch)."""

    run: runfolder.Run
    subfolder: str
    key: dict
    resume: bool
    restored_seconds: float = field(default=0.0, init=False)  # training time before this process

    def engine(self, steps_per_epoch: int) -> tuple[Checkpoints, dict | None]:
        every = steps_per_epoch * max(1, -(-MIN_STEPS_BETWEEN // steps_per_epoch))  # whole epochs: see EpochBatches
        checkpoints = Checkpoints(self.run, every=every, keep=1, subfolder=self.subfolder, key=self.key)
        if not self.resume:
            return checkpoints, None
        try:
            found = checkpoint_files.latest(checkpoints.folder)
        except DataError as e:
            console.print(f"[yellow]{e}: the model is trained from scratch", soft_wrap=True)
            return checkpoints, None
        if found is None:
            return checkpoints, None
        path, state = found
        if state.get("resume_key") != self.key:
            console.print(f"[yellow]{path} is another experiment's: the model is trained from scratch", soft_wrap=True)
            return checkpoints, None
        self.restored_seconds = float(state.get("train_seconds", 0.0))
        console.print(f"resuming from {path} (step {state['step']})", soft_wrap=True)
        return checkpoints, state


@dataclass
class SeedCheckpoints:
    """The checkpoints of one seed's models (see the module's docstring)."""

    run: runfolder.Run
    key: str  # seed_checkpoints.key: the experiment less its seeds
    seed: int
    resume: bool

    @classmethod
    def of(cls, run: runfolder.Run, cfg, seed: int) -> SeedCheckpoints | None:
        if distributed.world_size() > 1:
            return None
        return cls(run, seed_checkpoints.key(cfg, run.out_dir), seed, seed_checkpoints.resuming(cfg))

    def _name(self, kind: str, recipe: int) -> str:
        return f"{DIR}/seed{self.seed}/{kind}_{recipe}"

    def _key(self, kind: str, recipe: int) -> dict:
        return {"experiment": self.key, "seed": self.seed, "model": kind, "recipe": recipe}

    def model(self, kind: str, recipe: int) -> ModelCheckpoint:
        return ModelCheckpoint(self.run, self._name(kind, recipe), self._key(kind, recipe), self.resume)

    def class_model_folder(self, kind: str, label: int) -> str:
        """Where ``classify.density_classifier``'s model of class ``label`` checkpoints (sla density's loop)."""
        return f"{DIR}/seed{self.seed}/{kind}_class{label}"

    def has_class_model(self, kind: str, label: int) -> bool:
        """A killed run's checkpoint of that class model is there to resume from."""
        return self.resume and (self.run.out_dir / self.class_model_folder(kind, label)).is_dir()

    def class_model_key(self, kind: str, label: int) -> dict:
        return {"experiment": self.key, "seed": self.seed, "model": kind, "class": label}

    def record(self, kind: str, recipe: int) -> dict | None:
        """A finished model's record (its validation accuracy and seconds), when it was not kept."""
        path = self.run.out_dir / f"{self._name(kind, recipe)}.pt"
        if not self.resume or not path.is_file():
            return None
        try:
            saved = runfolder.load_torch(path, "classify model record")
            if saved.get("key") != self._key(kind, recipe):
                return None
            return {"val_accuracy": float(saved["val_accuracy"]), "seconds": float(saved["seconds"])}
        except (DataError, AttributeError, KeyError, TypeError, ValueError) as e:
            console.print(f"[yellow]{path} cannot be read back ({e}): that model is trained again", soft_wrap=True)
            return None

    def drop(self, kind: str, recipe: int, val_accuracy: float, seconds: float) -> None:
        """A model that is not (or no longer) the best of its kind: keep its record, not its weights."""
        name = self._name(kind, recipe)
        record = {"key": self._key(kind, recipe), "val_accuracy": val_accuracy, "seconds": seconds}
        runfolder.save_torch(self.run.unlisted_path(f"{name}.pt"), record)
        _remove(self.run.out_dir, name)

    def clear(self) -> None:
        """The seed is finished: its own checkpoint holds what is kept."""
        _remove(self.run.out_dir, f"{DIR}/seed{self.seed}")


def _remove(out_dir: Path, name: str) -> None:
    folder = out_dir / name
    if folder.is_dir() and folder.resolve().is_relative_to(out_dir.resolve()):  # never through a link out
        shutil.rmtree(folder, ignore_errors=True)
