"""Per-seed checkpoints of `sla classify`: a run over several seeds (Table 1 over five seeds; the
paper preset at hours a seed on a CPU) that is killed continues at the first seed it had not
finished, instead of training every seed again (inside that seed: ``model_checkpoints``).

After each seed, ``checkpoints/seed<N>.pt`` (not in the manifest, so a failed run keeps it) holds
what the run needs of that seed: its numbers, which test images each model got right, its
validation grid, its weights, and for the first seed the arrays its figures are drawn from. Rerunning
the same command on the unfinished folder reads them back (``run.resume=auto``, the default;
``false`` trains every seed again). A checkpoint counts only when the experiment is the same less
``classify.seeds`` (so ``seeds=[0,1,2,3,4]`` can extend a killed ``[0,1,2]``). The folder is removed
once the run is complete.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.runtime import console

DIR = "checkpoints"


def file_name(seed: int) -> str:
    return f"{DIR}/seed{seed}.pt"


def key(cfg, out_dir: Path) -> str:
    """The run's identity less ``classify.seeds`` (how-to-run keys, resume included, never count)."""
    config = runfolder.config_dict(cfg, out_dir)
    config["classify"] = {k: v for k, v in config["classify"].items() if k != "seeds"}
    return runfolder.identity(config)


def resuming(cfg) -> bool:
    """Whether a rerun reads back what a killed run left (run.resume not false, no overwrite)."""
    return cfg.run.resume is not False and not cfg.run.overwrite


@dataclass
class SeedResult:
    numbers: dict
    correct: dict  # scoring or model -> bool [N_test]
    tuning: dict | None
    weights: dict | None  # classify.weights blob (None when evaluated from another run's weights)
    figure_arrays: dict  # what the figures are drawn from: confusion {model: [C, C]}, loglik [N_test, C]


def save(run: runfolder.Run, cfg, seed: int, result: SeedResult) -> None:
    blob = {
        "key": key(cfg, run.out_dir),
        "seed": seed,
        "numbers": json.dumps(result.numbers),  # JSON text: what results.json will hold, loadable weights-only
        "tuning": json.dumps(result.tuning),
        "correct": {k: torch.from_numpy(np.asarray(v, dtype=bool)) for k, v in result.correct.items()},
        "weights": result.weights,
        "figure_arrays": {
            "confusion": {k: torch.as_tensor(v) for k, v in result.figure_arrays["confusion"].items()},
            "loglik": torch.as_tensor(result.figure_arrays["loglik"]),
        },
    }
    runfolder.save_torch(run.unlisted_path(file_name(seed)), blob)


def load(run: runfolder.Run, cfg, seed: int) -> SeedResult | None:
    """The seed's result saved by an earlier, killed run of the same experiment, or None."""
    path = run.out_dir / file_name(seed)
    if not resuming(cfg) or not path.is_file():
        return None
    try:
        blob = runfolder.load_torch(path, "classify seed checkpoint")
        if blob.get("key") != key(cfg, run.out_dir) or blob.get("seed") != seed:
            console.print(f"[yellow]{path} is another classify experiment's: seed {seed} is trained again")
            return None
        numbers, tuning = json.loads(blob["numbers"]), json.loads(blob["tuning"])
        correct = {k: v.numpy() for k, v in blob["correct"].items()}
        arrays = blob["figure_arrays"]
    except (DataError, KeyError, TypeError, AttributeError, ValueError) as e:
        console.print(f"[yellow]{path} cannot be read back ({e}): seed {seed} is trained again")
        return None
    console.print(
        f"seed {seed}: read back from {path} (an earlier run of this experiment finished it; "
        "run.resume=false trains it again)",
        soft_wrap=True,
    )
    return SeedResult(numbers, correct, tuning, blob["weights"], arrays)


def clear(out_dir: Path) -> None:
    """Once the run is complete (its manifest written): the checkpoints have served."""
    folder = Path(out_dir) / DIR
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder, ignore_errors=True)
