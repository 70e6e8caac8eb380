"""`sla classify`: ten MNIST class autoencoders (one batched set) as a Bayes classifier, against an
MLP with the same training budget; the scorings, anomaly AUROCs and adversarial accuracy."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from sla_cli import distributed, runfolder
from sla_cli.classify import data as mnist_data
from sla_cli.classify import calibrate, density_members, evaluate, figures, ood, report, weights
from sla_cli.classify.class_autoencoders import train_class_autoencoders
from sla_cli.classify.mlp import train_mlp
from sla_cli.classify.scoring import SCORINGS, Col, SetScorer, sigma_and_density
from sla_cli.config_checks import check_bool, check_choice, check_float, check_int, value
from sla_cli.errors import ConfigError
from sla_cli.runtime import console, resolve_device, seed_everything

KIND = "classify"
N_CLASSES = 10


def _int_list(cfg, key: str, low: int, high: int | None = None, allow_empty: bool = False) -> list:
    v = value(cfg, key)
    items = list(v) if OmegaConf.is_list(v) or isinstance(v, (list, tuple)) else None
    if items is None or (not items and not allow_empty):
        raise ConfigError(f"{key}={v!r} must be a non-empty list, e.g. [0,1,2]")
    for s in items:
        if isinstance(s, bool) or not isinstance(s, int) or s < low or (high is not None and s > high):
            raise ConfigError(f"{key}={items} must hold integers >= {low}")
    if len(set(items)) != len(items):
        raise ConfigError(f"{key}={items} repeats a value")
    return items


def validate(cfg) -> None:
    _int_list(cfg, "classify.seeds", 0, 2**32 - 1)
    check_int(cfg, "classify.val_size", 10, 30000)
    for key, low, high in (("classify.train_size", 100, 60000), ("classify.test_size", 10, 10000)):
        if value(cfg, key) is not None:
            check_int(cfg, key, low, high)
    check_int(cfg, "classify.model.hidden", 1)
    check_int(cfg, "classify.model.latent", 1, 784)
    check_choice(cfg, "classify.model.loss", ("bce", "mse"))
    check_bool(cfg, "classify.model.learn_sigma")
    check_int(cfg, "classify.mlp.hidden", 1)
    check_int(cfg, "classify.mlp.batch_size", 1)
    check_int(cfg, "classify.train.epochs", 1)
    check_int(cfg, "classify.train.batch_size", 1)
    check_float(cfg, "classify.train.lr", 0, low_open=True)
    check_float(cfg, "classify.full.jitter", 0)
    check_int(cfg, "classify.full.batch", 1)
    check_int(cfg, "classify.full.stats_per_class", 10)
    check_choice(cfg, "classify.full.sigma_from", ("val", "train"))
    check_choice(cfg, "classify.full.density_from", ("val", "train"))
    check_int(cfg, "classify.calibrate.steps", 0)
    check_int(cfg, "classify.ood.n", 2, 10000)
    extra = value(cfg, "classify.ood.extra")
    if not OmegaConf.is_list(extra) or not all(isinstance(p, str) and p for p in extra):
        raise ConfigError(f"classify.ood.extra={extra!r} must be a list of folders, e.g. [/data/letters]")
    check_int(cfg, "classify.adversarial.n", 1, 10000)
    check_int(cfg, "classify.adversarial.batch", 1)
    check_int(cfg, "classify.adversarial.pgd_steps", 1)
    check_int(cfg, "classify.adversarial.restarts", 1)
    eps = value(cfg, "classify.adversarial.eps")
    if not OmegaConf.is_list(eps) or not all(
        isinstance(e, (int, float)) and not isinstance(e, bool) and 0 < e <= 1 for e in eps
    ):
        raise ConfigError(f"classify.adversarial.eps={eps!r} must be a list of numbers in (0, 1]")
    scorings = value(cfg, "classify.adversarial.scorings")
    if not OmegaConf.is_list(scorings) or any(s not in SCORINGS for s in scorings):
        raise ConfigError(f"classify.adversarial.scorings={scorings!r} must list some of {', '.join(SCORINGS)}")
    wf = value(cfg, "classify.weights_from")
    if wf is not None and not isinstance(wf, str):
        raise ConfigError("classify.weights_from must be null or the folder of an earlier sla classify run")
    density_members.validate(cfg)


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _one_seed(cfg, seed: int, data, device, extra: dict) -> tuple[dict, dict, tuple]:
    c = cfg.classify
    seed_everything(seed)
    times = {"ae_set": 0.0, "mlp": 0.0}
    if c.weights_from:
        ae, mlp = weights.load_from_run(c.weights_from, seed, cfg, device)
    else:
        t0 = time.perf_counter()
        ae = train_class_autoencoders(
            data.train,
            N_CLASSES,
            c.model.hidden,
            c.model.latent,
            c.train.epochs,
            c.train.batch_size,
            c.train.lr,
            c.model.loss,
            c.model.learn_sigma,
            device,
            seed,
            f"seed {seed} class autoencoders",
        )
        _sync(device)
        times["ae_set"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        mlp = train_mlp(
            data.train,
            N_CLASSES,
            c.mlp.hidden,
            c.train.epochs,
            c.mlp.batch_size,
            c.train.lr,
            device,
            seed,
            f"seed {seed} MLP",
        )
        _sync(device)
        times["mlp"] = time.perf_counter() - t0
    for p in list(ae.parameters()) + list(mlp.parameters()):
        p.requires_grad_(False)
    sigma, density, sigma_by_split = sigma_and_density(
        ae,
        {"train": data.train, "val": data.val},
        c.full.sigma_from,
        c.full.density_from,
        c.full.batch,
        c.full.stats_per_class,
    )
    scorer = SetScorer(ae, sigma, density, jitter=c.full.jitter)
    scorer.calibration = calibrate.fit_calibration(
        scorer.all_features(data.val.x, c.full.batch)[..., Col.CALIBRATED], data.val.y, steps=c.calibrate.steps
    )
    numbers, arrays = evaluate.classification(scorer, mlp, data, c.full.batch)
    numbers["ae_set"]["full"]["sigma_mean_by_split"] = {k: float(v.mean()) for k, v in sigma_by_split.items()}
    numbers["ood"] = evaluate.anomalies(scorer, mlp, data, arrays["logits"], c.ood.n, seed, c.full.batch, extra)
    numbers["adversarial"] = evaluate.attacks(scorer, mlp, data, c.adversarial, seed)
    numbers["train_seconds"] = times
    if (members := density_members.evaluate(cfg, seed, data, device)) is not None:  # classify.members=dae|made|vae
        numbers["density_members"] = members
    return numbers, arrays, (ae, mlp)


def run(cfg, out_dir: Path) -> None:
    c = cfg.classify
    if c.weights_from:  # a wrong folder or architecture fails before anything is written
        for seed in c.seeds:
            weights.load_from_run(c.weights_from, seed, cfg, torch.device("cpu"))
    extra = ood.load_extra(c.ood.extra, c.ood.n)  # so do unreadable anomaly folders
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        device = resolve_device(cfg.device)
        data = mnist_data.load(
            cfg.data.root, cfg.data.download, device, c.val_size, c.train_size, c.test_size, cfg.seed
        )
        per_seed = [_seed_with_outputs(run, cfg, seed, data, device, i == 0, extra) for i, seed in enumerate(c.seeds)]
        results = {
            **report.combine(per_seed, "mean"),
            "std": report.combine(per_seed, "std"),
            "per_seed": per_seed,
            "paper": report.PAPER,
            "seeds": list(c.seeds),
            "device": str(device),
            "preset": cfg.preset,
            "world_size": distributed.world_size(),
            "n_train": len(data.train),
            "n_val": len(data.val),
            "n_test": len(data.test),
            "arch": {"ae_hidden": c.model.hidden, "latent": c.model.latent, "mlp_hidden": c.mlp.hidden},
            "training_loss": _loss_name(c.model),
            "sigma_estimated_on": c.full.sigma_from,
            "latent_gaussian_fitted_on": c.full.density_from,
            "weights_from": c.weights_from,
        }
        run.save_json("results.json", results)
        run.save_text("table.md", report.table_md(results) + density_members.table_md(results))
        report.print_table(results)
        density_members.print_table(results)
        run.describe(
            device=str(device),
            seeds=list(c.seeds),
            accuracy={**{s: v["accuracy"] for s, v in results["ae_set"].items()}, "mlp": results["mlp"]["accuracy"]},
        )
    console.print(f"wrote {run.out_dir}")


def _loss_name(model_cfg) -> str:
    """What the class autoencoders were trained on, as results.json and table.md state it."""
    if model_cfg.learn_sigma:
        return "gaussian_nll (learned per-pixel sigma)"
    return {"mse": "mse (the paper's L2)", "bce": "bce"}[model_cfg.loss]


def _seed_with_outputs(run: runfolder.Run, cfg, seed: int, data, device, first: bool, extra: dict) -> dict:
    """One seed's numbers; its weights saved (unless evaluated from another run); the first seed's figures."""
    numbers, arrays, (ae, mlp) = _one_seed(cfg, seed, data, device, extra)
    if not cfg.classify.weights_from:
        weights.save(run.path(weights.file_name(seed)), ae, mlp, seed)
    if first:
        accs = {**{s: v["accuracy"] for s, v in numbers["ae_set"].items()}, "mlp": numbers["mlp"]["accuracy"]}
        run.save_figure("confusion.png", figures.confusion_figure(arrays["confusion"], accs), dpi=110)
        full = SetScorer.logits_from_features(arrays["test_features"], "full", None)
        run.save_figure(
            "loglik_hist.png", figures.loglik_hist_figure(full.cpu().numpy(), data.test.y.cpu().numpy()), dpi=110
        )
    return numbers
