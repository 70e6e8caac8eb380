"""Resume policy of `sla train`: what makes two runs the same run, and which checkpoint may continue.

``run.resume=auto`` (the default) continues an unfinished run of the same config in ``out`` and
says so in one line, so rerunning a killed command (an interrupted `make demo`) goes on where it
stopped; ``true`` insists (a mismatched checkpoint is an error either way); ``false`` refuses a
folder holding checkpoints unless run.overwrite=true starts again.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.runtime import console
from sla_cli.train import variants
from sla_cli.train.data import Dataset, same_dataset
from sla_cli.training import checkpoint

# What a checkpoint must agree on to be continued (train.steps may grow).
RESUME_KEYS = (
    "batch_size",
    "lr",
    "schedule",
    "self_steps",
    "cross_steps",
    "cross_weight",
    "device_data_mb",
    "views_per_digit",
)


def identity_cfg(cfg: DictConfig) -> DictConfig:
    """The config the run records (runfolder.config_dict leaves out run.resume and run.stop_after)
    less the keys other variants read, so a set run's identity is what it was before variants."""
    return variants.without_unused_keys(cfg)


def resume_key(cfg: DictConfig) -> dict:
    unused = variants.unused_keys(cfg.train.variant)
    train = {k: cfg.train[k] for k in (*RESUME_KEYS, "variant", "temperature") if k not in unused}
    return {"seed": cfg.seed, "threads": cfg.run.threads, "model": OmegaConf.to_container(cfg.model), "train": train}


def resume_point(cfg: DictConfig, run: runfolder.Run, data: Dataset) -> dict | None:
    """The checkpoint state this run continues from, or None to start at step 0 (see the module doc)."""
    out_dir, mode = run.out_dir, cfg.run.resume
    found = checkpoint.list_checkpoints(out_dir)
    if not found:
        if mode is True:
            console.print(f"[yellow]run.resume=true but {out_dir} holds no checkpoint: starting from step 0")
        return None
    if mode is False or (mode == "auto" and cfg.run.overwrite):
        if not cfg.run.overwrite:
            raise DataError(
                f"{out_dir} holds checkpoints of an unfinished run and run.resume=false; "
                "drop it to continue the run or pass run.overwrite=true to start again"
            )
        return None  # start again: the first new checkpoint replaces the old ones
    path, state = checkpoint.latest(out_dir)  # the newest that loads
    checkpoint_to_resume(cfg, out_dir, data, path, state)
    console.print(
        f"resuming the unfinished run in {out_dir} from step {state['step']} ({path.name}; "
        f"run.resume=false refuses, run.overwrite=true starts again)",
        soft_wrap=True,
    )
    return state


def checkpoint_to_resume(cfg: DictConfig, out_dir: Path, data: Dataset, path: Path, state: dict) -> None:
    """Check that checkpoint ``path`` (``state``) may continue this config on this dataset; a
    mismatched one is a one-line DataError."""
    if not isinstance(state.get("dataset"), dict) or not isinstance(state.get("resume_key"), dict):
        raise DataError(f"{path} is not an sla train checkpoint (no dataset or resume key)")
    if not same_dataset(state["dataset"], data.identity):
        raise DataError(
            f"{out_dir} was trained on another dataset ({state['dataset'].get('folder')}); "
            f"it does not match {cfg.dataset_dir} (pass run.overwrite=true to start again)"
        )
    want = resume_key(cfg)
    for section, values in want.items():
        if state["resume_key"].get(section) != values:
            raise DataError(
                f"{path} was made with other settings ({section}: "
                f"{runfolder.differences(state['resume_key'].get(section), values)}); "
                "resume with the same ones or pass run.overwrite=true"
            )
