"""`sla train dataset_dir=DIR run.out=DIR`: C context autoencoders, self- and cross-trained into one latent space.

Reads an `sla generate-cubes` folder, trains the set (``loop``), checkpoints as it goes
(``checkpoint``), then writes model.pt, metrics.csv/json, transfer.png, curves.png and, last,
manifest.json (kind "model"). ``train.variant`` trains one of the one-shot stage's baselines instead
(``variants``: one shared autoencoder, or contrastive encoders without decoders and so without
transfer.png) into the same kind of folder.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from sla_cli import runfolder
from sla_cli.config_checks import value
from sla_cli.errors import ConfigError
from sla_cli.runtime import console
from sla_cli.train import variants
from sla_cli.train.data import load_dataset
from sla_cli.train.resume import identity_cfg, resume_point
from sla_cli.train.trainer import Trainer

KIND = "model"


def validate(cfg: DictConfig) -> None:
    """What depends on other keys (each key's type and range: sla_cli/schema/train.py)."""
    if OmegaConf.is_missing(cfg, "dataset_dir") or not isinstance(value(cfg, "dataset_dir"), str):
        raise ConfigError("dataset_dir=DIR is required: an `sla generate-cubes` run folder")
    if cfg.train.self_steps + cfg.train.cross_steps == 0:
        raise ConfigError("train.self_steps + train.cross_steps must be >= 1")
    variants.validate(cfg)  # the combinations a variant refuses
    set_pairs = cfg.train.variant == "set" and (cfg.train.schedule == "mixed" or cfg.train.cross_steps > 0)
    if cfg.train.views_per_digit == 1 and set_pairs:
        raise ConfigError(
            "train.views_per_digit=1 leaves cross-training nothing to pair (a pair is two views "
            "of one digit): use k >= 2, or train.cross_steps=0 for self-training only"
        )


def run(cfg: DictConfig, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    data = load_dataset(cfg.dataset_dir)  # checked and hash-verified before touching out
    with runfolder.Run(out_dir, KIND, identity_cfg(cfg)) as run:
        if run.complete:
            return
        trainer = Trainer(cfg, run, data, resume_point(cfg, run, data))  # decided under the folder's lock
        if not trainer.run():
            run.leave_incomplete()
            return
    _print_table(trainer.metrics, out_dir)


def _print_table(metrics: dict, out: Path) -> None:
    table = Table(title=f"sla train: {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, v in metrics.items():
        if isinstance(v, str) and len(v) > 40:  # the long descriptions stay in metrics.json
            continue
        table.add_row(key, f"{v:.5g}" if isinstance(v, float) else str(v))
    for floor in ("mean_image_mse", "class_mean_image_mse"):
        if metrics.get(floor, 0) > 0:  # a contrastive model has no MSE
            table.add_row(f"test_cross_mse / {floor}", f"{metrics['test_cross_mse'] / metrics[floor]:.3f}")
    console.print(table)
