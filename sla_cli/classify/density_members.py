"""`sla classify classify.members=dae|made|vae`: ten density models of `sla density`, one per
class, as a Bayes classifier (class = argmax_c log p_c(x) + log prior(c), the prior from the training
counts), beside the set of autoencoders (eq. 4) and the MLP. classify.members=ae (the default) adds nothing.

Density models see binary images: each class model trains on its class's grey levels with dynamic
binarization; test, validation and anomaly images are scored on one fixed seeded binarization.
Scores: MADE the exact (mask-ensemble) log-likelihood, the VAE its IWAE estimate, the DAE minus
its clean reconstruction cross-entropy (a DAE has no normalized likelihood: a pseudo-score).
"""

from __future__ import annotations

import time

import torch
from omegaconf import DictConfig, OmegaConf

from sla_cli.classify import ood
from sla_cli.classify.metrics import accuracy, log_prior
from sla_cli.classify.report_format import pm
from sla_cli.config_checks import check_choice
from sla_cli.density import recipes
from sla_cli.density.data import binarize_fixed
from sla_cli.density.loop import Schedule, fit
from sla_cli.runtime import console
from rich.table import Table

MEMBERS = ("ae", *recipes.MODELS)


def validate(cfg: DictConfig) -> None:
    kind = check_choice(cfg, "classify.members", MEMBERS)
    if kind != "ae":  # the member settings are sla density's: check them with its own validator
        from sla_cli.density.stage import validate as validate_density
        validate_density(_density_cfg(cfg, 0))


def _density_cfg(cfg: DictConfig, seed: int) -> DictConfig:
    """The class models' settings as an `sla density` config, for its builders and validator."""
    unused = {"train_size": None, "test_size": None, "curve_test_size": 1, "n_samples": 1, "resume": False,
              "stop_after": 0, "keep_checkpoints": 1, "cosine": True,
              "made": {"epochs": 1}, "vae": {"epochs": 1}, "dae": {"epochs": 1, "chain_steps": 1, "chains": 1}}
    density = OmegaConf.merge(unused, cfg.classify.member, {"model": cfg.classify.members})
    return OmegaConf.create({"seed": seed, "threads": cfg.threads, "density": density})


def _score_fn(kind: str, model, c: DictConfig):
    if kind == "made":
        return model.ensemble_log_prob
    if kind == "vae":
        return lambda x: model.iwae_estimate(x, c.iwae_k, c.iwae_chunk)
    return lambda x: -model.cross_entropy(x, x)


@torch.no_grad()
def _scores(models: list, kind: str, c: DictConfig, x: torch.Tensor) -> torch.Tensor:
    """[N, classes] class log-likelihoods (or the DAE's pseudo-score), in batches."""
    out = torch.empty(x.shape[0], len(models))
    for j, model in enumerate(models):
        fn = _score_fn(kind, model, c)
        for start in range(0, x.shape[0], c.eval_batch):
            # float32, as sla density's evaluation: bf16 would blur the class log-likelihoods being compared
            out[start:start + c.eval_batch, j] = fn(x[start:start + c.eval_batch]).float().cpu()
    return out


def evaluate(cfg: DictConfig, seed: int, data, device: torch.device) -> dict | None:
    """One seed: train the ten class models, then test accuracy and anomaly AUROCs; None for ae."""
    kind = cfg.classify.members
    if kind == "ae":
        return None
    dcfg = _density_cfg(cfg, seed)
    c = dcfg.density
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    from sla_cli.density.stage import epochs
    schedule = Schedule(epochs(dcfg), c.batch_size, c.lr, cosine=c.cosine)
    loss = recipes.loss(dcfg)
    start = time.perf_counter()
    models = []
    for label in range(10):
        members = recipes.build(dcfg)
        model = members["walkback" if kind == "dae" and c.dae.walkback > 1 else next(iter(members))].to(device)
        grey = data.train.x[data.train.y == label]
        recipes.init_output_bias({"m": model}, grey)
        fit(f"seed {seed} {kind} class {label}", model, loss, lambda m: 0.0, grey, schedule, device, gen, None)
        models.append(model)
    seconds = time.perf_counter() - start
    binary = lambda x, offset: binarize_fixed(x, c.test_seed + offset).to(device)  # noqa: E731
    prior = log_prior(data.train.y, 10)
    test = _scores(models, kind, c, binary(data.test.x, 0)) + prior
    val = _scores(models, kind, c, binary(data.val.x, 1)) + prior
    in_max = test.max(1).values
    aurocs = {k: ood.auroc(in_max, (_scores(models, kind, c, binary(x, 2 + i)) + prior).max(1).values)
              for i, (k, x) in enumerate(ood.anomalies(data.test.x, cfg.classify.ood.n, seed).items())}
    return {"members": kind, "accuracy": accuracy(test, data.test.y.cpu()),
            "val_accuracy": accuracy(val, data.val.y.cpu()),
            "mean_test_loglik_true_class": float((test - prior).gather(1, data.test.y.cpu()[:, None]).mean()),
            "ood": aurocs, "train_seconds": seconds}


def table_md(results: dict) -> str:
    """A section for table.md ('' when classify.members=ae)."""
    r = results.get("density_members")
    if not r:
        return ""
    kinds = list(r["ood"])
    return "\n".join([
        f"## Density models as class models (classify.members={r['members']}, Bayes with the training prior)", "",
        "| model | inputs | test acc. % | val acc. % | " + " | ".join(f"AUROC {k}" for k in kinds) + " |",
        "|---|---|---|---|" + "---|" * len(kinds),
        f"| 10 x {r['members']} | binarized | {pm(results, results['std'], 'density_members', 'accuracy')} | "
        f"{100 * r['val_accuracy']:.2f} | " + " | ".join(f"{r['ood'][k]:.3f}" for k in kinds) + " |", "",
        "Images binarized (one fixed seeded draw); MADE: exact log-likelihood, VAE: IWAE estimate, "
        "DAE: minus the reconstruction cross-entropy (not a normalized likelihood).", ""])


def print_table(results: dict) -> None:
    r = results.get("density_members")
    if not r:
        return
    t = Table(title=f"classify.members={r['members']}: ten density models (binarized inputs), Bayes with the prior")
    for col in ("test acc. %", "val acc. %", "AUROC " + "/".join(r["ood"])):
        t.add_column(col)
    t.add_row(f"{100 * r['accuracy']:.2f}", f"{100 * r['val_accuracy']:.2f}",
              " / ".join(f"{v:.2f}" for v in r["ood"].values()))
    console.print(t)
