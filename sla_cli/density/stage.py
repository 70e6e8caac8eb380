"""`sla density density.model=dae|made|vae out=DIR`: one model of the autoencoder family trained as a
density model on binarized MNIST; writes density.json, samples.png, curves.png (manifest kind "density").

Resume is the default, as in `sla train`: ``density.resume=auto`` continues an unfinished run of the
same config in ``out`` from each member's last checkpoint (``<member>/checkpoints/``), so the same
command run again goes on where it stopped; ``true`` insists; ``false`` refuses a folder holding
checkpoints unless overwrite=true starts again. Checkpoints of other members (an unfinished run of
another ``density.model``) are never taken over without overwrite=true.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from sla_cli import runfolder
from sla_cli.config_checks import check_bool, check_choice, check_float, check_int, value
from sla_cli.density import data as binary_mnist
from sla_cli.density import figures, recipes
from sla_cli.density.dae import NOISES
from sla_cli.density.loop import Schedule, fit
from sla_cli.errors import ConfigError, DataError
from sla_cli.runtime import console, resolve_device, seed_everything
from sla_cli.training import checkpoint

KIND = "density"
RESUME_CHOICES = ("auto", True, False)


def _widths(cfg: DictConfig, key: str) -> None:
    v = value(cfg, key)
    if not OmegaConf.is_list(v) or not v or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in v):
        raise ConfigError(f"{key}={v!r} must be a non-empty list of positive integers, e.g. [500]")


def validate(cfg: DictConfig) -> None:
    check_choice(cfg, "density.model", recipes.MODELS)
    check_int(cfg, "density.test_seed", 0, 2**32 - 1)
    for key, low, high in (("density.train_size", 10, 60000), ("density.test_size", 10, 10000)):
        if value(cfg, key) is not None:
            check_int(cfg, key, low, high)
    if value(cfg, "density.epochs") is not None:
        check_int(cfg, "density.epochs", 1)
    for model in recipes.MODELS:
        check_int(cfg, f"density.{model}.epochs", 1)
    for key in ("batch_size", "eval_batch", "curve_test_size", "n_samples", "iwae_k", "iwae_chunk",
                "keep_checkpoints"):
        check_int(cfg, f"density.{key}", 1)
    check_float(cfg, "density.lr", 0, low_open=True)
    check_bool(cfg, "density.cosine")
    resume = value(cfg, "density.resume")
    if not (isinstance(resume, bool) or resume in RESUME_CHOICES):
        raise ConfigError(f"density.resume={resume!r} must be auto, true or false")
    check_int(cfg, "density.stop_after", 0)
    _widths(cfg, "density.made.hidden")
    check_int(cfg, "density.made.n_masks", 1)
    for key in ("order_agnostic", "connectivity_agnostic", "direct"):
        check_bool(cfg, f"density.made.{key}")
    _widths(cfg, "density.vae.hidden")
    check_int(cfg, "density.vae.latent", 1)
    check_int(cfg, "density.vae.train_k", 1)
    _widths(cfg, "density.dae.hidden")
    check_choice(cfg, "density.dae.noise", NOISES)
    check_float(cfg, "density.dae.level", 0, 1, low_open=True)
    check_int(cfg, "density.dae.walkback", 1)
    check_int(cfg, "density.dae.chain_steps", 1)
    check_int(cfg, "density.dae.chains", 1, 64)


def epochs(cfg: DictConfig) -> int:
    c = cfg.density
    return c.epochs if c.epochs is not None else c[c.model].epochs


def identity_cfg(cfg: DictConfig) -> DictConfig:
    """The config the run records: less density.resume and density.stop_after (runfolder.experiment)."""
    return runfolder.without_invocation_keys(cfg, "density")


def resume_key(cfg: DictConfig) -> dict:
    """What a checkpoint must agree on to be continued (density.epochs may grow)."""
    c = runfolder.experiment({"density": OmegaConf.to_container(cfg.density, resolve=True)})["density"]
    c.pop("epochs")  # epochs may grow on resume
    for model in recipes.MODELS:
        c[model].pop("epochs")
    return {"seed": cfg.seed, "threads": cfg.threads, "density": c}


def run(cfg: DictConfig, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    c = cfg.density
    device = resolve_device(cfg.device)
    data = binary_mnist.load(cfg.data.root, cfg.data.download, device, c.test_seed, c.train_size, c.test_size)
    with runfolder.Run(out_dir, KIND, identity_cfg(cfg)) as run:
        if run.complete:
            return
        resume = resume_decision(cfg, out_dir)  # under the folder's lock
        trained = _train(cfg, data, device, run, resume)
        if trained is None:
            run.leave_incomplete()  # stopped early as asked: no manifest, checkpoints stay for the next run
            return
        members, fits = trained
        _write(run, cfg, data, device, members, fits)


def resume_decision(cfg: DictConfig, out_dir: Path) -> bool:
    """Whether this run continues from the checkpoints in ``out_dir`` (see the module doc). Starting
    again (overwrite=true) removes the checkpoints there; another model's are refused without it."""
    c, ours = cfg.density, set(recipes.member_names(cfg))
    found = {p.name for p in out_dir.iterdir() if p.is_dir() and checkpoint.list_checkpoints(p)}
    if found - ours and not cfg.overwrite:
        raise DataError(f"{out_dir} holds checkpoints of an unfinished density run of other members "
                        f"({', '.join(sorted(found - ours))}), not of density.model={c.model}; choose another out=DIR "
                        "or pass overwrite=true to start again")
    if not found & ours:
        if c.resume is True:
            console.print(f"[yellow]density.resume=true but {out_dir} holds no checkpoint: starting from epoch 0")
        _start_again(out_dir, found)
        return False
    if c.resume is False or (c.resume == "auto" and cfg.overwrite):
        if not cfg.overwrite:
            raise DataError(f"{out_dir} holds checkpoints of an unfinished run and density.resume=false; "
                            "drop it to continue the run or pass overwrite=true to start again")
        _start_again(out_dir, found)
        return False
    console.print(f"resuming the unfinished run in {out_dir} (density.resume=false refuses, overwrite=true starts "
                  "again)", soft_wrap=True)
    return True


def _start_again(out_dir: Path, members: set[str]) -> None:
    """Remove the members' checkpoint folders (never through a link out of ``out_dir``)."""
    for name in members:
        if runfolder.leaves(out_dir, name) is None and not (out_dir / name).is_symlink():
            shutil.rmtree(out_dir / name, ignore_errors=True)


def _train(cfg: DictConfig, data: binary_mnist.BinaryMnist, device: torch.device, run: runfolder.Run,
           resume: bool):
    c = cfg.density
    generator = seed_everything(cfg.seed)
    members = {name: m.to(device) for name, m in recipes.build(cfg).items()}
    recipes.init_output_bias(members, data.train_grey)
    schedule = Schedule(epochs(cfg), c.batch_size, c.lr, c.keep_checkpoints, c.stop_after, c.cosine)
    loss, curve = recipes.loss(cfg), recipes.curve_loss(cfg)
    curve_x = data.test[:c.curve_test_size]
    fits = {}
    for name, model in members.items():
        fits[name] = fit(name, model, loss, lambda m: curve(m, curve_x), data.train_grey, schedule, device,
                         generator, run, resume, resume_key(cfg))
        if not fits[name].finished:
            console.print(f"stopped after epoch {fits[name].epoch} of {name} as asked (density.stop_after); "
                          "the same command without it continues")
            return None
    return members, fits


def _write(run, cfg: DictConfig, data, device: torch.device, members: dict, fits: dict) -> None:
    c = cfg.density
    torch.manual_seed(cfg.seed)  # evaluation noise (IWAE samples, corruptions) repeatable on its own
    start = time.perf_counter()
    numbers = recipes.numbers(cfg, members, data.test)
    result = {
        "model": c.model,
        "binarization": binary_mnist.BINARIZATION,
        "test_binarization_sha256": data.test_sha256,
        "test_seed": data.test_seed,
        "n_test": int(data.test.shape[0]),
        "n_train": int(data.train_grey.shape[0]),
        **(numbers if c.model != "dae" else {"members": numbers}),
        "epochs": epochs(cfg),
        "train_seconds": round(sum(f.seconds for f in fits.values()), 3),
        "eval_seconds": round(time.perf_counter() - start, 3),
        "device": _device_name(device),
        "curves": {name: f.rows for name, f in fits.items()},
    }
    for name, model in members.items():
        run.save_torch(f"{name}.pt", {k: v.detach().cpu() for k, v in model.state_dict().items()})
    run.save_json("density.json", result)
    run.save_figure("samples.png", recipes.samples(cfg, members, device))
    run.save_figure("curves.png", figures.curves_figure({n: f.rows for n, f in fits.items()}, recipes.ylabel(cfg)))
    run.describe(model=c.model, test_binarization_sha256=data.test_sha256, device=_device_name(device))
    _print_table(result, run.out_dir)


def _device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def _print_table(result: dict, out) -> None:
    table = Table(title=f"sla density ({result['model']}): {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    flat = result.get("members", {"": result})
    for member, numbers in flat.items():
        for key, v in numbers.items():
            if key.endswith("_nats") or key in ("n_masks", "iwae_k"):
                table.add_row(f"{member} {key}".strip(), f"{v:.2f}" if isinstance(v, float) else str(v))
    for key in ("epochs", "train_seconds", "eval_seconds", "device"):
        table.add_row(key, str(result[key]))
    console.print(table)
