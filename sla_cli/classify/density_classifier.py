"""`sla classify classify.density_classifier=made|vae|dae`: ten density models of `sla density` (any model of its
registry, sla_cli/density/models/), one per class, as a Bayes classifier (class = argmax_c log p_c(x) +
log prior(c), the prior from the training counts), beside the set of autoencoders (eq. 4) and the MLP.
classify.density_classifier=none (the default) adds nothing.

The settings are sla density's (``classify.density``: see conf/classify.yaml and
sla_cli/density/settings.py), so the class models are the density models as `sla density` trains them:
the same architecture, binarization of the training images, schedule and early stopping, each on its
class's training images, validated on classify's validation images of its class (the best epoch's
weights kept). Test, validation and anomaly images are scored on one fixed seeded binarization, with
each model's class score: MADE the exact (mask-ensemble) log-likelihood, the VAE its IWAE estimate, the
DAE minus its clean reconstruction cross-entropy (a DAE has no normalized likelihood: a pseudo-score).
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from sla_cli.classify import ood
from sla_cli.classify.metrics import accuracy, log_prior
from sla_cli.classify.model_checkpoints import MIN_STEPS_BETWEEN, SeedCheckpoints
from sla_cli.classify.report_format import pm
from sla_cli.config_checks import value
from sla_cli.density import base
from sla_cli.density.data import binarize_dynamic, binarize_fixed
from sla_cli.density.loop import fit
from sla_cli.density.stage import D, schedule, validate_settings
from sla_cli.errors import ConfigError
from sla_cli.runtime import console


def choices() -> tuple[str, ...]:
    return ("none", *base.registry())


def validate(cfg: DictConfig) -> None:
    kind = value(cfg, "classify.density_classifier")
    if kind not in choices():
        raise ConfigError(f"classify.density_classifier={kind!r} must be one of {', '.join(choices())}")
    if kind != "none":  # the settings are sla density's: checked by its own validator, under classify.density
        validate_settings(cfg, "classify.density", kind)


@torch.no_grad()
def _scores(models: list, c: DictConfig, x: torch.Tensor) -> torch.Tensor:
    """[N, classes] class log-likelihoods (or the DAE's pseudo-score), in batches."""
    out = torch.empty(x.shape[0], len(models))
    for j, model in enumerate(models):
        for start in range(0, x.shape[0], c.eval_batch):
            # float32, as sla density's evaluation: bf16 would blur the class log-likelihoods being compared
            out[start : start + c.eval_batch, j] = model.class_score(x[start : start + c.eval_batch], c).float().cpu()
    return out


def _train_class_models(
    kind: str, c: DictConfig, seed: int, data, device: torch.device, checkpoints: SeedCheckpoints | None
) -> tuple[list, list, float]:
    """(the ten models, how each fit went, their training seconds, a resumed model's earlier ones included)."""
    cls = base.get(kind)
    gen = torch.Generator().manual_seed(seed)  # one stream through the ten: a resumed model restores it
    models, fits, seconds = [], [], 0.0
    for label in range(10):
        model = cls.class_model(cls.members(c[kind], D, seed)).to(device)
        grey = data.train.x[data.train.y == label]
        fixed = binarize_fixed(grey, c.test_seed + 2).to(device)
        val = binarize_fixed(data.val.x[data.val.y == label], c.test_seed + 1).to(device)
        model.init_output_bias(grey)
        train = (lambda f=fixed: f) if c.train_binarization == "fixed" else (lambda g=grey: binarize_dynamic(g, gen))
        f = fit(
            f"seed {seed} {kind} class {label}",
            model,
            len(grey),
            train,
            (lambda v=val: v) if len(val) else None,
            c.eval_batch,
            schedule(c, kind),
            device,
            gen,
            # each class model checkpoints as it trains: ten hour-long models outlast a sitting
            None if checkpoints is None else checkpoints.run,
            resume=checkpoints is not None and checkpoints.has_class_model(kind, label),
            resume_key=None if checkpoints is None else checkpoints.class_model_key(kind, label),
            folder=None if checkpoints is None else checkpoints.class_model_folder(kind, label),
            min_steps_between=MIN_STEPS_BETWEEN,
        )
        models.append(model)
        fits.append({"best_epoch": f.best_epoch, "epochs_trained": f.epoch, "best_val_nats": f.best_val})
        seconds += f.seconds
    return models, fits, seconds


def evaluate(
    cfg: DictConfig, seed: int, data, device: torch.device, checkpoints: SeedCheckpoints | None = None
) -> dict | None:
    """One seed: train the ten class models (checkpointed in ``checkpoints``' seed folder), then test
    accuracy and anomaly AUROCs; None for none."""
    kind = cfg.classify.density_classifier
    if kind == "none":
        return None
    c = cfg.classify.density
    torch.manual_seed(seed)
    models, fits, seconds = _train_class_models(kind, c, seed, data, device, checkpoints)
    binary = lambda x, offset: binarize_fixed(x, c.test_seed + offset).to(device)  # noqa: E731
    prior = log_prior(data.train.y, 10)
    test = _scores(models, c, binary(data.test.x, 0)) + prior
    val = _scores(models, c, binary(data.val.x, 1)) + prior
    in_max = test.max(1).values
    aurocs = {
        k: ood.auroc(in_max, (_scores(models, c, binary(x, 3 + i)) + prior).max(1).values)
        for i, (k, x) in enumerate(ood.anomalies(data.test.x, cfg.classify.ood.n, seed).items())
    }
    return {
        "members": kind,
        "accuracy": accuracy(test, data.test.y.cpu()),
        "val_accuracy": accuracy(val, data.val.y.cpu()),
        "mean_test_loglik_true_class": float((test - prior).gather(1, data.test.y.cpu()[:, None]).mean()),
        "ood": aurocs,
        "train_seconds": seconds,
        "class_models": fits,
        "settings": OmegaConf.to_container(c, resolve=True),
    }


def table_md(results: dict) -> str:
    """A section for table.md ('' when classify.density_classifier=none)."""
    r = results.get("density_members")
    if not r:
        return ""
    kinds = list(r["ood"])
    return "\n".join(
        [
            f"## Density models as class models (classify.density_classifier={r['members']}, Bayes with the prior)",
            "",
            "| model | inputs | test acc. % | val acc. % | " + " | ".join(f"AUROC {k}" for k in kinds) + " |",
            "|---|---|---|---|" + "---|" * len(kinds),
            f"| 10 x {r['members']} | binarized | {pm(results, results['std'], 'density_members', 'accuracy')} | "
            f"{100 * r['val_accuracy']:.2f} | " + " | ".join(f"{r['ood'][k]:.3f}" for k in kinds) + " |",
            "",
            "Images binarized (one fixed seeded draw); MADE: exact log-likelihood, VAE: IWAE estimate, "
            "DAE: minus the reconstruction cross-entropy (not a normalized likelihood).",
            "",
        ]
    )


def print_table(results: dict) -> None:
    r = results.get("density_members")
    if not r:
        return
    t = Table(
        title=f"classify.density_classifier={r['members']}: ten density models (binarized inputs), Bayes with the prior"
    )
    for col in ("test acc. %", "val acc. %", "AUROC " + "/".join(r["ood"])):
        t.add_column(col)
    t.add_row(
        f"{100 * r['accuracy']:.2f}",
        f"{100 * r['val_accuracy']:.2f}",
        " / ".join(f"{v:.2f}" for v in r["ood"].values()),
    )
    console.print(t)
