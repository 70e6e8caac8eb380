"""The training loop of `sla train`: steps, loss checks, checkpoints, and the finishing writes."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from sla_cli import distributed, runfolder
from sla_cli.errors import SlaError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runtime import console, progress, resolve_device, seed_everything
from sla_cli.train import checkpoint
from sla_cli.train.data import BatchSource, Dataset, view_choice
from sla_cli.train.figures import curves_figure, transfer_figure
from sla_cli.train.loop import (
    held_view_sources,
    loss_weights,
    make_optimizer,
    random_derangement,
    step_kind,
    train_step,
)
from sla_cli.train.metrics import evaluate
from sla_cli.train.resume import identity_cfg, resume_key

CSV_FIELDS = ("step", "self_loss", "cross_loss", "train_seconds")


class TrainingDiverged(SlaError):
    exit_code = 1


class Trainer:
    def __init__(self, cfg: DictConfig, run: runfolder.Run, data: Dataset, resume_from: dict | None):
        self.cfg, self.run_folder, self.out_dir, self.data = cfg, run, run.out_dir, data
        self.device = resolve_device(cfg.device)
        self.generator = seed_everything(cfg.seed)
        m = cfg.model
        self.model = AutoencoderSet(data.n_contexts, data.dim, m.hidden, m.latent, m.tied, m.learn_sigma)
        self.model.to(self.device)
        self.optimizer = distributed.sync_gradients(make_optimizer(self.model, cfg.train.lr, self.device))
        self.weight = loss_weights(torch.from_numpy(data.masks).to(self.device))
        self.batches = BatchSource(data.train_images, self.device, cfg.train.device_data_mb)
        views = view_choice(len(self.batches), data.n_contexts, cfg.train.views_per_digit, cfg.seed)
        self.views = None if views is None else views.to(self.device)  # [N, C]: the views training may use
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

    def run(self) -> bool:
        """Train to train.steps (True, the run's files written) or to train.stop_after (False; False
        too on torchrun's ranks > 0, which write nothing)."""
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
                          f"the same command without it continues")
            return False
        if distributed.rank() > 0:  # torchrun: rank 0 evaluates and writes; the others' copies would be thrown away
            return False
        self._finish()
        return True

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
        index = distributed.shard(torch.randint(len(self.batches), (t.batch_size,), generator=self.generator))
        perm = random_derangement(self.data.n_contexts, self.generator).to(self.device)
        seen = None
        if self.views is not None:  # drawn on every step, so both schedules draw the same batches
            seen = self.views[index.to(self.device)].T.float()  # [C, B]
            keys = distributed.shard(torch.rand(self.data.n_contexts, t.batch_size, generator=self.generator))
            perm = held_view_sources(seen, keys.to(self.device))
        losses = train_step(self.model, self.optimizer, self.batches.batch(index), self.weight, kind, perm,
                            t.cross_weight, seen)
        self.step += 1
        self.pending.append((self.step, losses))

    def _check_losses(self) -> None:
        """One host sync for all steps since the last check; a non-finite loss ends the run."""
        if not self.pending:
            return
        values = torch.stack([v.float() for _, losses in self.pending for v in losses.values()])
        values = distributed.batch_mean(values).cpu().tolist()  # torchrun: the global batch's losses
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
        if distributed.rank() > 0:  # torchrun: rank 0 alone writes checkpoints
            return
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
        self.last_checkpoint = checkpoint.save(self.run_folder, self.step, state, self.cfg.train.keep_checkpoints)
        self._write_csv()

    def _write_csv(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_FIELDS})
        self.run_folder.save_text("metrics.csv", buffer.getvalue())

    def _finish(self) -> None:
        cfg, run = self.cfg, self.run_folder
        model_file = {"state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
                      "config": self.model.config(), "dataset": self.data.identity,
                      "frame": list(self.data.frame), "steps": self.step, "seed": cfg.seed,
                      "run_config": OmegaConf.to_container(identity_cfg(cfg), resolve=True)}
        run.save_torch("model.pt", model_file)
        with console.status("evaluating on held-out test digits"):
            numbers = evaluate(self.model, self.data, self.device, cfg.eval.test_digits, cfg.eval.latent_digits,
                               cfg.seed)
        metrics = {"steps": self.step, "train_seconds": round(self.seconds, 3), "device": device_name(self.device),
                   "world_size": distributed.world_size(), **numbers}
        run.save_json("metrics.json", metrics)
        source = min(cfg.eval.transfer_source, self.data.n_contexts - 1)
        run.save_figure("transfer.png", transfer_figure(self.model, self.data, self.device, source,
                                                        cfg.eval.transfer_digits))
        run.save_figure("curves.png", curves_figure(self.rows))
        run.describe(dataset=self.data.identity, n_contexts=self.data.n_contexts, frame=list(self.data.frame),
                     model=self.model.config())
        self.metrics = metrics


def device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def _loss_text(row: dict) -> str:
    return "  ".join(f"{k.split('_')[0]} {row[k]:.4g}" for k in ("self_loss", "cross_loss") if row.get(k) is not None)
