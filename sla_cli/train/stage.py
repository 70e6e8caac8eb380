"""`sla train dataset=DIR out=DIR`: C context autoencoders, self- and cross-trained into one latent space.

Reads an `sla generate-cubes` folder, trains the set (``loop``), checkpoints as it goes
(``checkpoint``), then writes model.pt, metrics.csv/json, transfer.png, curves.png and, last,
manifest.json (kind "model").
"""

from __future__ import annotations

import copy
import csv
import io
import shutil
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf, open_dict
from rich.table import Table

from sla_cli import runfolder
from sla_cli.config_checks import check_bool, check_choice, check_float, check_int, value
from sla_cli.errors import ConfigError, DataError, SlaError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import console, progress, resolve_device, seed_everything
from sla_cli.train import checkpoint
from sla_cli.train.data import BatchSource, Dataset, load_dataset, same_dataset
from sla_cli.train.figures import curves_figure, transfer_figure
from sla_cli.train.loop import loss_weights, make_optimizer, random_derangement, step_kind, train_step
from sla_cli.train.metrics import evaluate

KIND = "model"
# How a run is carried out, not what it computes: left out of the run's identity, so an
# interrupted-then-resumed run is the same run as an uninterrupted one.
HOW_KEYS = ("resume", "stop_after")
# What a checkpoint must agree on to be continued (train.steps may grow).
RESUME_KEYS = ("batch_size", "lr", "schedule", "self_steps", "cross_steps", "cross_weight", "device_data_mb")
CSV_FIELDS = ("step", "self_loss", "cross_loss", "train_seconds")


class TrainingDiverged(SlaError):
    exit_code = 1


def validate(cfg: DictConfig) -> None:
    if OmegaConf.is_missing(cfg, "dataset") or not isinstance(value(cfg, "dataset"), str):
        raise ConfigError("dataset=DIR is required: an `sla generate-cubes` run folder")
    check_int(cfg, "model.hidden", 1)
    check_int(cfg, "model.latent", 1)
    check_bool(cfg, "model.tied")
    check_bool(cfg, "model.learn_sigma")
    check_int(cfg, "train.steps", 1)
    check_int(cfg, "train.batch_size", 1)
    check_float(cfg, "train.lr", 0, low_open=True)
    check_choice(cfg, "train.schedule", ("alternate", "mixed"))
    check_int(cfg, "train.self_steps", 0)
    check_int(cfg, "train.cross_steps", 0)
    if cfg.train.self_steps + cfg.train.cross_steps == 0:
        raise ConfigError("train.self_steps + train.cross_steps must be >= 1")
    check_float(cfg, "train.cross_weight", 0)
    check_int(cfg, "train.log_every", 1)
    check_int(cfg, "train.checkpoint_every", 1)
    check_int(cfg, "train.keep_checkpoints", 1)
    check_bool(cfg, "train.resume")
    check_int(cfg, "train.stop_after", 0)
    check_float(cfg, "train.device_data_mb", 0)
    check_int(cfg, "eval.test_digits", 1)
    check_int(cfg, "eval.latent_digits", 2)
    check_int(cfg, "eval.transfer_source", 0)
    check_int(cfg, "eval.transfer_digits", 1, 10)


def identity_cfg(cfg: DictConfig) -> DictConfig:
    run_cfg = copy.deepcopy(cfg)
    with open_dict(run_cfg):
        for key in HOW_KEYS:
            run_cfg.train.pop(key, None)
    return run_cfg


def resume_key(cfg: DictConfig) -> dict:
    return {"seed": cfg.seed, "threads": cfg.threads, "model": OmegaConf.to_container(cfg.model),
            "train": {k: cfg.train[k] for k in RESUME_KEYS}}


def run(cfg: DictConfig, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    data = load_dataset(cfg.dataset)  # before touching out: a bad dataset leaves nothing behind
    run_cfg = identity_cfg(cfg)
    done = (out_dir / runfolder.MANIFEST).exists()
    if checkpoint.list_checkpoints(out_dir) and not done and not cfg.train.resume and not cfg.overwrite:
        raise DataError(f"{out_dir} holds checkpoints of an unfinished run; pass train.resume=true to continue it "
                        "or overwrite=true to start again")
    resume_from = _checkpoint_to_resume(cfg, out_dir, data) if cfg.train.resume else None
    if runfolder.begin(out_dir, KIND, run_cfg) is not None:
        console.print(f"{out_dir} already holds this complete run; nothing to do")
        return
    if resume_from is None:
        shutil.rmtree(out_dir / checkpoint.FOLDER, ignore_errors=True)  # overwrite=true: start clean
    Trainer(cfg, out_dir, data, resume_from).run()


def _checkpoint_to_resume(cfg: DictConfig, out_dir: Path, data: Dataset) -> dict | None:
    found = checkpoint.list_checkpoints(out_dir)
    if not found:
        console.print(f"[yellow]train.resume=true but {out_dir} holds no checkpoint: starting from step 0")
        return None
    state = checkpoint.load(found[-1][1])
    if not same_dataset(state["dataset"], data.identity):
        raise DataError(f"{out_dir} was trained on another dataset ({state['dataset'].get('folder')}); "
                        f"it does not match {cfg.dataset}")
    want = resume_key(cfg)
    for section, values in want.items():
        if state["resume_key"].get(section) != values:
            raise DataError(f"{found[-1][1]} was made with different `{section}` settings "
                            f"({state['resume_key'].get(section)}); resume with the same ones or pass overwrite=true")
    return state


class Trainer:
    def __init__(self, cfg: DictConfig, out_dir: Path, data: Dataset, resume_from: dict | None):
        self.cfg, self.out_dir, self.data = cfg, out_dir, data
        self.device = resolve_device(cfg.device)
        self.generator = seed_everything(cfg.seed)
        m = cfg.model
        self.model = AutoencoderSet(data.n_contexts, data.dim, m.hidden, m.latent, m.tied, m.learn_sigma).to(self.device)
        self.optimizer = make_optimizer(self.model, cfg.train.lr, self.device)
        self.weight = loss_weights(torch.from_numpy(data.masks).to(self.device))
        self.batches = BatchSource(data.train_images, self.device, cfg.train.device_data_mb)
        self.step, self.rows, self.seconds = 0, [], 0.0
        self.interval = {"self": [0.0, 0], "cross": [0.0, 0]}  # loss sums and counts since the last row
        self.pending: list[tuple[int, dict]] = []  # device-side losses not yet checked (avoids a sync per step)
        self.last_checkpoint: Path | None = None
        if resume_from is not None:
            self._restore(resume_from)

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        checkpoint.restore_rng(state["rng"], self.generator, self.device)
        self.step, self.rows, self.seconds = state["step"], state["rows"], state["train_seconds"]
        self.interval = {k: list(v) for k, v in state["interval"].items()}
        self.last_checkpoint = checkpoint.path_for(self.out_dir, self.step)
        console.print(f"resuming from step {self.step} ({self.last_checkpoint.name})")

    def run(self) -> None:
        t = self.cfg.train
        end = t.steps if not t.stop_after else min(t.steps, t.stop_after)
        start = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("train", total=t.steps, completed=self.step, info="")
            try:
                self._loop(bar, task, end, start)
            except SlaError:
                bar.remove_task(task)  # the error alone on stderr, not after a half-drawn bar
                raise
        if self.step < t.steps:
            console.print(f"stopped after step {self.step} as asked (train.stop_after); "
                          f"continue with train.resume=true")
            return
        self._finish()

    def _loop(self, bar, task, end: int, start: float) -> None:
        """Steps until ``end``; losses are checked (one host sync) only at log and checkpoint steps."""
        t = self.cfg.train
        while self.step < end:
            self._one_step()
            at_log = self.step % t.log_every == 0 or self.step == t.steps
            at_checkpoint = self.step % t.checkpoint_every == 0 or self.step == end
            if at_log or at_checkpoint:
                self._check_losses()
            if at_log:
                self.rows.append(self._row(self.seconds + time.perf_counter() - start))
                bar.update(task, info=_loss_text(self.rows[-1]))
            if at_checkpoint:
                self.seconds += time.perf_counter() - start
                self._save_checkpoint()
                start = time.perf_counter()
            bar.update(task, completed=self.step)

    def _one_step(self) -> None:
        t = self.cfg.train
        kind = step_kind(self.step, t.schedule, t.self_steps, t.cross_steps)
        index = torch.randint(len(self.batches), (t.batch_size,), generator=self.generator)
        perm = random_derangement(self.data.n_contexts, self.generator).to(self.device)
        losses = train_step(self.model, self.optimizer, self.batches.batch(index), self.weight, kind, perm,
                            t.cross_weight)
        self.step += 1
        self.pending.append((self.step, losses))

    def _check_losses(self) -> None:
        """One host sync for all steps since the last check; a non-finite loss ends the run."""
        if not self.pending:
            return
        values = torch.stack([v.float() for _, losses in self.pending for v in losses.values()]).cpu().tolist()
        it = iter(values)
        for step, losses in self.pending:
            for name in losses:
                v = next(it)
                if v != v or v in (float("inf"), float("-inf")):
                    kept = f"the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint \
                        else "no checkpoint was written yet"
                    raise TrainingDiverged(f"the {name} loss became {v} at step {step} (try a lower train.lr); {kept}")
                self.interval[name][0] += v
                self.interval[name][1] += 1
        self.pending = []

    def _row(self, seconds: float) -> dict:
        row = {"step": self.step, "train_seconds": round(seconds, 3)}
        for name, (total, count) in self.interval.items():
            row[f"{name}_loss"] = total / count if count else None
        self.interval = {"self": [0.0, 0], "cross": [0.0, 0]}
        return row

    def _save_checkpoint(self) -> None:
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": checkpoint.rng_state(self.generator, self.device),
            "rows": self.rows,
            "interval": self.interval,
            "train_seconds": self.seconds,
            "dataset": self.data.identity,
            "resume_key": resume_key(self.cfg),
        }
        self.last_checkpoint = checkpoint.save(self.out_dir, self.step, state, self.cfg.train.keep_checkpoints)
        self._write_csv()

    def _write_csv(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_FIELDS})
        runfolder.write_text(self.out_dir / "metrics.csv", buffer.getvalue())

    def _finish(self) -> None:
        cfg, out = self.cfg, self.out_dir
        model_file = {"state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                      "config": self.model.config(), "dataset": self.data.identity,
                      "frame": list(self.data.frame), "steps": self.step, "seed": cfg.seed,
                      "run_config": OmegaConf.to_container(identity_cfg(cfg), resolve=True)}
        with runfolder.atomic_path(out / "model.pt") as tmp:
            torch.save(model_file, tmp)
        with console.status("evaluating on held-out test digits"):
            numbers = evaluate(self.model, self.data, self.device, cfg.eval.test_digits, cfg.eval.latent_digits, cfg.seed)
        metrics = {"steps": self.step, "train_seconds": round(self.seconds, 3), "device": _device_name(self.device),
                   **numbers}
        runfolder.write_json(out / "metrics.json", metrics)
        source = min(cfg.eval.transfer_source, self.data.n_contexts - 1)
        transfer_figure(out / "transfer.png", self.model, self.data, self.device, source, cfg.eval.transfer_digits)
        curves_figure(out / "curves.png", self.rows)
        files = ["model.pt", "metrics.csv", "metrics.json", "transfer.png", "curves.png"]
        runfolder.finish(out, KIND, identity_cfg(cfg), files=files, dataset=self.data.identity,
                         n_contexts=self.data.n_contexts, frame=list(self.data.frame), model=self.model.config())
        _print_table(metrics, out)


def _loss_text(row: dict) -> str:
    return "  ".join(f"{k.split('_')[0]} {row[k]:.4g}" for k in ("self_loss", "cross_loss") if row.get(k) is not None)


def _device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def _print_table(metrics: dict, out: Path) -> None:
    table = Table(title=f"sla train: {out}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, v in metrics.items():
        table.add_row(key, f"{v:.5g}" if isinstance(v, float) else str(v))
    floor = metrics["mean_image_mse"]
    if floor > 0:
        table.add_row("test_cross_mse / mean_image_mse", f"{metrics['test_cross_mse'] / floor:.3f}")
    same = metrics["latent_distance_same_digit"]
    if same > 0:
        table.add_row("latent distance different / same", f"{metrics['latent_distance_different_digit'] / same:.2f}")
    console.print(table)
