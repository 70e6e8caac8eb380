"""`sla density density.model=<name> run.out=DIR`: one density model (sla_cli/density/models/<name>.py)
trained on binarized MNIST with a validation split (curves, early stopping, the best epoch's weights
kept), then scored once on the test set; writes density.json, samples.png, curves.png (manifest
kind "density").

Resume is the default, as in `sla train`: ``run.resume=auto`` continues an unfinished run of the
same config in ``out`` from each member's last checkpoint (``<member>/checkpoints/``), so the same
command run again goes on where it stopped; ``true`` insists; ``false`` refuses a folder holding
checkpoints unless run.overwrite=true starts again. Checkpoints of other members (an unfinished run of
another ``density.model``) are never taken over without run.overwrite=true.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from sla_cli import runfolder
from sla_cli.config_checks import value
from sla_cli.density import base, report
from sla_cli.density import data as binary_mnist
from sla_cli.density.loop import Schedule, fit
from sla_cli.errors import ConfigError, DataError
from sla_cli.runtime import console, resolve_device, seed_everything
from sla_cli.schema.density import Settings
from sla_cli.schema.validate import validate as validate_schema
from sla_cli.training import checkpoint

KIND = "density"
D = 784


def validate(cfg: DictConfig) -> None:
    """The model, its settings, and what depends on other keys (types and ranges: sla_cli/schema/density.py)."""
    c = cfg.density
    base.get(value(cfg, "density.model"))
    validate_settings(cfg, "density", c.model)
    if c.patience and not c.val_size:
        raise ConfigError(f"density.patience={c.patience} needs a validation split: density.val_size > 0")


def validate_settings(cfg: DictConfig, section: str, model: str) -> None:
    """The settings a density model trains and tests with, under ``section`` (``density``, or
    ``classify.density`` for sla classify's class models): the shared keys and the model's own."""
    validate_schema(cfg, Settings, f"{section}.")  # classify.density's: typed Any when composed
    cls = base.get(model)
    if OmegaConf.select(cfg, f"{section}.{model}") is None:
        raise ConfigError(f"{section}.{model} is missing: a model's settings file is conf/density/models/{model}.yaml")
    validate_schema(cfg, cls.settings, f"{section}.{model}.")
    cls.check(cfg, f"{section}.{model}")


def schedule(c: DictConfig, model: str, run: DictConfig | None = None) -> Schedule:
    """Training settings as the loop takes them (``c``: the density settings; ``run``: the stage's
    run: block, whose checkpoints and early stop sla classify's class models do not have)."""
    epochs = c.epochs if c.epochs is not None else c[model].epochs
    return Schedule(
        epochs,
        c.batch_size,
        c.lr,
        c.schedule,
        c.adam_eps,
        c.patience,
        run.keep_checkpoints if run is not None else 2,
        run.stop_after if run is not None else 0,
    )


def resume_key(cfg: DictConfig) -> dict:
    """What a checkpoint must agree on to be continued: the experiment less the epochs (they may grow)
    and the other models' settings."""
    c = runfolder.experiment({"density": OmegaConf.to_container(cfg.density, resolve=True)})["density"]
    c = {k: v for k, v in c.items() if k not in base.registry() or k == cfg.density.model}
    c.pop("epochs")
    c[cfg.density.model].pop("epochs")
    ident = {"seed": cfg.seed, "threads": cfg.run.threads, "density": c}
    if cfg.data.source != "mnist":  # only then, so MNIST runs keep the identity (and resume) they had before
        ident["data_source"] = cfg.data.source
    return ident


def run(cfg: DictConfig, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    c = cfg.density
    device = resolve_device(cfg.run.device)
    data = binary_mnist.load(
        cfg.run.data_root, cfg.run.download, device, c.val_size, c.train_size, c.test_size, cfg.data.source
    )
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        resume = resume_decision(cfg, out_dir)  # under the folder's lock
        generator = seed_everything(cfg.seed)
        binarizer = binary_mnist.Binarizer(c.train_binarization, c.test_binarization, c.test_seed, generator)
        trained = _train(cfg, data, binarizer, device, run, resume)
        if trained is None:
            run.leave_incomplete()  # stopped early as asked: no manifest, checkpoints stay for the next run
            return
        report.write(run, cfg, data, binarizer, device, *trained)


def resume_decision(cfg: DictConfig, out_dir: Path) -> bool:
    """Whether this run continues from the checkpoints in ``out_dir`` (see the module doc). Starting
    again (run.overwrite=true) removes the checkpoints there; another model's are refused without it."""
    c, ours = cfg.density, set(base.get(cfg.density.model).member_names())
    found = {p.name for p in out_dir.iterdir() if p.is_dir() and checkpoint.list_checkpoints(p)}
    if found - ours and not cfg.run.overwrite:
        raise DataError(
            f"{out_dir} holds checkpoints of an unfinished density run of other members "
            f"({', '.join(sorted(found - ours))}), not of density.model={c.model}; choose another run.out=DIR "
            "or pass run.overwrite=true to start again"
        )
    if not found & ours:
        if cfg.run.resume is True:
            console.print(f"[yellow]run.resume=true but {out_dir} holds no checkpoint: starting from epoch 0")
        _start_again(out_dir, found)
        return False
    if cfg.run.resume is False or (cfg.run.resume == "auto" and cfg.run.overwrite):
        if not cfg.run.overwrite:
            raise DataError(
                f"{out_dir} holds checkpoints of an unfinished run and run.resume=false; "
                "drop it to continue the run or pass run.overwrite=true to start again"
            )
        _start_again(out_dir, found)
        return False
    console.print(
        f"resuming the unfinished run in {out_dir} (run.resume=false refuses, run.overwrite=true starts again)",
        soft_wrap=True,
    )
    return True


def _start_again(out_dir: Path, members: set[str]) -> None:
    """Remove the members' checkpoint folders (never through a link out of ``out_dir``)."""
    for name in members:
        if runfolder.leaves(out_dir, name) is None and not (out_dir / name).is_symlink():
            shutil.rmtree(out_dir / name, ignore_errors=True)


def _train(
    cfg: DictConfig,
    data: binary_mnist.GreyMnist,
    binarizer: binary_mnist.Binarizer,
    device: torch.device,
    run: runfolder.Run,
    resume: bool,
):
    c = cfg.density
    cls = base.get(c.model)
    members = {name: m.to(device) for name, m in cls.members(c[c.model], D, cfg.seed).items()}
    for model in members.values():
        model.init_output_bias(data.train)
    val = (lambda: binarizer.held_out("validation", data.val)) if len(data.val) else None
    fits = {}
    for name, model in members.items():
        fits[name] = fit(
            name,
            model,
            len(data.train),
            lambda: binarizer.train(data.train),
            val,
            c.eval_batch,
            schedule(c, c.model, cfg.run),
            device,
            binarizer.generator,
            run,
            resume,
            resume_key(cfg),
        )
        if not fits[name].finished:
            console.print(
                f"stopped after epoch {fits[name].epoch} of {name} as asked (run.stop_after); "
                "the same command without it continues"
            )
            return None
    return members, fits
