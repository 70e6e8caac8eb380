"""Resume policy of `sla train`: what makes two runs the same run, and which checkpoint may continue."""

from __future__ import annotations

import copy
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from sla_cli.errors import DataError
from sla_cli.runtime import console
from sla_cli.train import checkpoint
from sla_cli.train.data import Dataset, same_dataset

# How a run is carried out, not what it computes: left out of the run's identity, so an
# interrupted-then-resumed run is the same run as an uninterrupted one.
HOW_KEYS = ("resume", "stop_after")
# What a checkpoint must agree on to be continued (train.steps may grow).
RESUME_KEYS = ("batch_size", "lr", "schedule", "self_steps", "cross_steps", "cross_weight", "device_data_mb",
               "views_per_digit")


def identity_cfg(cfg: DictConfig) -> DictConfig:
    run_cfg = copy.deepcopy(cfg)
    with open_dict(run_cfg):
        for key in HOW_KEYS:
            run_cfg.train.pop(key, None)
    return run_cfg


def resume_key(cfg: DictConfig) -> dict:
    return {"seed": cfg.seed, "threads": cfg.threads, "model": OmegaConf.to_container(cfg.model),
            "train": {k: cfg.train[k] for k in RESUME_KEYS}}


def checkpoint_to_resume(cfg: DictConfig, out_dir: Path, data: Dataset) -> dict | None:
    """The newest checkpoint's state when it may continue this config on this dataset, else None
    (no checkpoint); a mismatched one is a one-line DataError."""
    found = checkpoint.list_checkpoints(out_dir)
    if not found:
        console.print(f"[yellow]train.resume=true but {out_dir} holds no checkpoint: starting from step 0")
        return None
    state = checkpoint.load(found[-1][1])
    if not same_dataset(state["dataset"], data.identity):
        raise DataError(f"{out_dir} was trained on another dataset ({state['dataset'].get('folder')}); "
                        f"it does not match {cfg.dataset_dir}")
    want = resume_key(cfg)
    for section, values in want.items():
        if state["resume_key"].get(section) != values:
            raise DataError(f"{found[-1][1]} was made with different `{section}` settings "
                            f"({state['resume_key'].get(section)}); resume with the same ones or pass overwrite=true")
    return state
