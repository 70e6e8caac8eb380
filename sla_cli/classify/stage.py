"""`sla classify`: ten MNIST class autoencoders (one batched set) as a Bayes classifier, against an
MLP of the same width and one of the set's parameter count; the scorings, paired tests over seeds,
calibration, anomaly AUROCs and adversarial accuracy."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from sla_cli import distributed, runfolder
from sla_cli.classify import (
    calibrate,
    density_classifier,
    evaluate,
    figures,
    ood,
    paired,
    report,
    seed_checkpoints,
    weights,
)
from sla_cli.classify import data as mnist_data
from sla_cli.classify import recipe as recipes
from sla_cli.classify.checks import validate  # noqa: F401  (the command table finds it here)
from sla_cli.classify.metrics import log_prior
from sla_cli.classify.mlp import mlp_parameters
from sla_cli.classify.model_checkpoints import SeedCheckpoints
from sla_cli.classify.scoring import PRIOR_USE, Col, SetScorer, sigma_and_density
from sla_cli.classify.train_models import matched_hidden, set_parameter_count, train_seed, winner_on_validation
from sla_cli.runtime import console, resolve_device, seed_everything

KIND = "classify"
N_CLASSES = 10
INPUTS = {"ae_set": "grey", "mlp": "grey", "mlp_matched": "grey", "density_members": "binarized"}


def _models(cfg, seed: int, data, device, checkpoints) -> tuple[dict, dict | None, dict]:
    """({kind: model}, the validation grid's record (None for saved weights), train seconds per kind)."""
    c = cfg.classify
    if c.weights_from:
        return (
            weights.load_from_run(c.weights_from, seed, cfg, device),
            None,
            {"ae_set": 0.0, "mlp": 0.0, "mlp_matched": 0.0},
        )
    trained = train_seed(c, seed, data.train, data.val, device, checkpoints)
    return trained.by_kind(), trained.tuning, trained.seconds


def _one_seed(
    cfg, seed: int, data, device, extra: dict, checkpoints: SeedCheckpoints | None = None
) -> tuple[dict, dict, dict, dict | None]:
    """(numbers, arrays, models, tuning) of one seed, on its own training subset when train_per_class is
    set; ``checkpoints``: where its models checkpoint and resume (model_checkpoints)."""
    c = cfg.classify
    seed_everything(seed)
    if c.train_per_class is not None:
        data = replace(data, train=mnist_data.per_class_subset(data.train, c.train_per_class, N_CLASSES, seed))
    models, tuning, seconds = _models(cfg, seed, data, device, checkpoints)
    for model in models.values():
        model.requires_grad_(False)
    ae, mlp = models["ae_set"], models["mlp"]
    sigma, density, sigma_by_split = sigma_and_density(
        ae,
        {"train": data.train, "val": data.val},
        c.full.sigma_from,
        c.full.density_from,
        c.full.batch,
        c.full.stats_per_class,
    )
    prior = log_prior(data.train.y, N_CLASSES).to(data.train.x.device)
    scorer = SetScorer(ae, sigma, density, jitter=c.full.jitter, log_prior=prior)
    val_f = scorer.all_features(data.val.x, c.full.batch)
    scorer.calibration = calibrate.fit_calibration(val_f[..., Col.CALIBRATED], data.val.y, steps=c.calibrate.steps)
    numbers, arrays = evaluate.classification(
        scorer, {"mlp": mlp, "mlp_matched": models["mlp_matched"]}, data, c.full.batch, val_f
    )
    numbers["ae_set"]["full"]["sigma_mean_by_split"] = {k: float(v.mean()) for k, v in sigma_by_split.items()}
    numbers["ood"] = evaluate.anomalies(scorer, mlp, data, arrays["logits"], c.ood.n, seed, c.full.batch, extra)
    numbers["adversarial"] = evaluate.attacks(scorer, mlp, data, c.adversarial, seed) if c.adversarial.n else None
    numbers["train_seconds"] = seconds
    numbers["log_prior"] = [round(float(v), 5) for v in prior]
    if (
        members := density_classifier.evaluate(cfg, seed, data, device, checkpoints)
    ) is not None:  # classify.density_classifier=dae|made|vae
        numbers["density_members"] = members
    return numbers, arrays, models, tuning


def run(cfg, out_dir: Path) -> None:
    c = cfg.classify
    if c.weights_from:  # a wrong folder or architecture fails before anything is written
        for seed in c.seeds:
            weights.load_from_run(c.weights_from, seed, cfg, torch.device("cpu"))
    extra = ood.load_extra(c.ood.extra, c.ood.n)  # so do unreadable anomaly folders
    device = resolve_device(cfg.run.device)
    data = mnist_data.load(
        cfg.run.data_root, cfg.run.download, device, c.val_size, c.train_size, c.test_size, cfg.seed, cfg.data.source
    )
    if c.train_per_class is not None:  # and so does a class too small for train_per_class
        mnist_data.check_per_class(data.train, c.train_per_class, N_CLASSES)
    with runfolder.Run(out_dir, KIND, cfg) as run:
        if run.complete:
            return
        per_seed, correct, tuning = [], [], []
        for i, seed in enumerate(c.seeds):
            numbers, seed_correct, seed_tuning = _seed_with_outputs(run, cfg, seed, data, device, i == 0, extra)
            per_seed.append(numbers)
            correct.append(seed_correct)
            tuning.append(seed_tuning)
        results = _results(cfg, device, data, per_seed, correct, tuning)
        run.save_json("results.json", results)
        run.save_text("table.md", report.table_md(results) + density_classifier.table_md(results))
        report.print_table(results)
        density_classifier.print_table(results)
        run.describe(
            device=str(device),
            seeds=list(c.seeds),
            accuracy={
                **{s: v["accuracy"] for s, v in results["ae_set"].items()},
                **{m: results[m]["accuracy"] for m in paired.BASELINES},
            },
        )
    seed_checkpoints.clear(run.out_dir)
    console.print(f"wrote {run.out_dir}")


def _results(cfg, device, data, per_seed: list, correct: list, tuning: list) -> dict:
    c = cfg.classify
    seeds = list(c.seeds)
    matched = matched_hidden(c)
    mlp_params = mlp_parameters(784, c.mlp.hidden, N_CLASSES, 1)
    matched_params = mlp_parameters(784, matched, N_CLASSES, c.mlp_matched.layers)
    return {
        **report.combine(per_seed, "mean"),
        "std": report.combine(per_seed, "std"),
        "per_seed": per_seed,
        "paired": paired.compare(correct, seeds, list(per_seed[0]["ae_set"]), c.stats.bootstrap),
        "tuning": _tuning_summary(c, tuning),
        "paper": report.PAPER,
        "seeds": seeds,
        "device": str(device),
        "preset": cfg.preset,
        "world_size": distributed.world_size(),
        "n_train": c.train_per_class * N_CLASSES if c.train_per_class is not None else len(data.train),
        "train_per_class": c.train_per_class,
        "n_val": len(data.val),
        "n_test": len(data.test),
        "arch": {
            "ae_hidden": c.autoencoder.hidden,
            "latent": c.autoencoder.latent,
            "mlp_hidden": c.mlp.hidden,
            "mlp_matched_hidden": matched,
            "mlp_matched_layers": c.mlp_matched.layers,
        },
        "parameters": {"ae_set": set_parameter_count(c), "mlp": mlp_params, "mlp_matched": matched_params},
        "inputs": {k: v for k, v in INPUTS.items() if k != "density_members" or c.density_classifier != "none"},
        "class_prior": {
            "from": "training label counts",
            "use": {s: PRIOR_USE[s] for s in per_seed[0]["ae_set"]},
            "mlp": "learned",
            "density_members": "+ log prior",
        },
        "training_loss": _loss_name(c.autoencoder),
        "sigma_estimated_on": c.full.sigma_from,
        "latent_gaussian_fitted_on": c.full.density_from,
        "weights_from": c.weights_from,
    }


def _tuning_summary(c, tuning: list) -> dict:
    grid = recipes.grid(c)
    out = {"enabled": bool(c.tune.enabled), "grid": [r.as_dict() for r in grid], "min_steps": int(c.train.min_steps)}
    if tuning[0] is None:  # saved weights: nothing was tuned here
        return {**out, "per_seed": None}
    return {**out, "per_seed": tuning, "winner_on_validation": [winner_on_validation(t) for t in tuning]}


def _loss_name(model_cfg) -> str:
    """What the class autoencoders were trained on, as results.json and table.md state it."""
    if model_cfg.learn_sigma:
        return "gaussian_nll (learned per-pixel sigma)"
    return {"mse": "mse (the paper's L2)", "bce": "bce"}[model_cfg.loss]


def _seed_with_outputs(run: runfolder.Run, cfg, seed: int, data, device, first: bool, extra: dict):
    """One seed's numbers, which test images each model got right, and its validation grid; its
    weights saved (unless evaluated from another run); the first seed's figures. A seed a killed run
    of the same experiment had finished is read back from its checkpoint (seed_checkpoints)."""
    result = seed_checkpoints.load(run, cfg, seed)
    if result is None:
        models_checkpoints = SeedCheckpoints.of(run, cfg, seed)
        numbers, arrays, models, tuning = _one_seed(cfg, seed, data, device, extra, models_checkpoints)
        loglik = SetScorer.logits_from_features(arrays["test_features"], "full", None)  # log p(x | c): no prior
        result = seed_checkpoints.SeedResult(
            numbers,
            arrays["correct"],
            tuning,
            None if cfg.classify.weights_from else weights.blob(models, seed),
            {"confusion": arrays["confusion"], "loglik": loglik.cpu()},
        )
        seed_checkpoints.save(run, cfg, seed, result)
        if models_checkpoints is not None:  # the seed's checkpoint holds what is kept of them
            models_checkpoints.clear()
    if result.weights is not None:
        runfolder.save_torch(run.path(weights.file_name(seed)), result.weights)
    if first:
        numbers = result.numbers
        accs = {
            **{s: v["accuracy"] for s, v in numbers["ae_set"].items()},
            **{m: numbers[m]["accuracy"] for m in paired.BASELINES},
        }
        run.save_figure("confusion.png", figures.confusion_figure(result.figure_arrays["confusion"], accs), dpi=110)
        run.save_figure(
            "loglik_hist.png",
            figures.loglik_hist_figure(result.figure_arrays["loglik"].numpy(), data.test.y.cpu().numpy()),
            dpi=110,
        )
    return result.numbers, result.correct, result.tuning
