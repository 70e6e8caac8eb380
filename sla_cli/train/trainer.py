"""`sla train`'s trainer: the set (or a baseline variant, ``variants``), its batches and step (``loop``)
on the training engine (``fit``: loss checks, checkpoints, resume), and the finishing writes."""

from __future__ import annotations

import csv
import io
from typing import cast

import torch
from omegaconf import DictConfig, OmegaConf

from sla_cli import distributed, runfolder
from sla_cli.models.variants import new_model
from sla_cli.runtime import console, resolve_device, seed_everything
from sla_cli.train import variants
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
from sla_cli.train.resume import identity_cfg, resume_key
from sla_cli.training import Checkpoints, FitState, Log, MeanLosses, TrainingDiverged, constant, fit

__all__ = ["Trainer", "TrainingDiverged", "device_name"]  # TrainingDiverged: the engine's, for old imports


class Trainer:
    def __init__(self, cfg: DictConfig, run: runfolder.Run, data: Dataset, resume_from: dict | None):
        self.cfg, self.run_folder, self.out_dir, self.data = cfg, run, run.out_dir, data
        self.device = resolve_device(cfg.run.device)
        self.generator = seed_everything(cfg.seed)
        m, self.variant = cfg.model, cfg.train.variant
        self.model = new_model(self.variant, data.n_contexts, data.dim, m.hidden, m.latent, m.tied, m.learn_sigma)
        self.losses = variants.loss_names(self.variant)  # the set's: self and cross
        self.model.to(self.device)
        self.optimizer = make_optimizer(self.model, cfg.train.lr, self.device)  # fit all-reduces it under torchrun
        self.weight = loss_weights(torch.from_numpy(data.masks).to(self.device))
        self.batches = BatchSource(data.train_images, self.device, cfg.train.device_data_mb)
        views = view_choice(len(self.batches), data.n_contexts, cfg.train.views_per_digit, cfg.seed)
        self.views = None if views is None else views.to(self.device)  # [N, C]: the views training may use
        self.resume_from = resume_from

    def run(self) -> bool:
        """Train to train.steps (True, the run's files written) or to run.stop_after (False; False
        too on torchrun's ranks > 0, which write nothing)."""
        t = self.cfg.train
        checkpoints = Checkpoints(
            self.run_folder,
            self.cfg.run.checkpoint_every,
            self.cfg.run.keep_checkpoints,
            key=resume_key(self.cfg),
            extra=lambda: {"dataset": self.data.identity},
            on_save=self._write_csv,
        )
        log = Log(
            self.cfg.run.log_every,
            MeanLosses(self.losses),
            "train",
            lambda state, _: _loss_text(state.rows[-1], self.losses),
            hint="try a lower train.lr",
        )
        own_step = self.variant == "set"  # the set's step is loop's; a baseline's loss goes through fit's Adam step
        self.state = fit(
            self.model,
            self._batch,
            None if own_step else self._baseline_loss,
            constant(t.lr),
            steps=t.steps,
            stop_at=self.cfg.run.stop_after,
            optimizer=self.optimizer,
            step=self._step if own_step else None,
            log=log,
            checkpoints=checkpoints,
            resume_from=self.resume_from,
            generator=self.generator,
            sharded=True,
        )
        if not self.state.finished:
            console.print(
                f"stopped after step {self.state.step} as asked (run.stop_after); the same command without it continues"
            )
            return False
        if distributed.rank() > 0:  # torchrun: rank 0 evaluates and writes; the others' copies would be thrown away
            return False
        self._finish()
        return True

    def _batch(self, step: int) -> tuple:
        """Step ``step``'s draws, in the order every run (and every resumed one) makes them."""
        t = self.cfg.train
        kind = step_kind(step, t.schedule, t.self_steps, t.cross_steps)
        index = distributed.shard(torch.randint(len(self.batches), (t.batch_size,), generator=self.generator))
        perm = random_derangement(self.data.n_contexts, self.generator).to(self.device)
        seen = None
        if self.views is not None:  # drawn on every step, so both schedules draw the same batches
            seen = self.views[index.to(self.device)].T.float()  # [C, B]
            keys = distributed.shard(torch.rand(self.data.n_contexts, t.batch_size, generator=self.generator))
            perm = held_view_sources(seen, keys.to(self.device))
        return kind, index, perm, seen

    def _step(self, batch: tuple) -> dict:
        kind, index, perm, seen = batch
        return train_step(
            self.model,
            self.optimizer,
            self.batches.batch(index),
            self.weight,
            kind,
            perm,
            self.cfg.train.cross_weight,
            seen,
        )

    def _baseline_loss(self, batch: tuple) -> tuple:
        _, index, perm, seen = batch  # the same draws as the set's steps (the step's kind is not used)
        return variants.baseline_loss(
            self.variant, self.model, self.batches.batch(index), self.weight, perm, seen, self.cfg.train.temperature
        )

    def _write_csv(self, state: FitState) -> None:
        buffer = io.StringIO()
        fields = ("step", *(f"{name}_loss" for name in self.losses), "train_seconds")
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in state.rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in fields})
        self.run_folder.save_text("metrics.csv", buffer.getvalue())

    def _finish(self) -> None:
        cfg, run = self.cfg, self.run_folder
        model_file = {
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "config": self.model.config(),
            "dataset": self.data.identity,
            "frame": list(self.data.frame),
            "steps": self.state.step,
            "seed": cfg.seed,
            "variant": self.variant,
            "run_config": runfolder.without_invocation_keys(
                cast(dict, OmegaConf.to_container(identity_cfg(cfg), resolve=True))
            ),
        }
        run.save_torch("model.pt", model_file)
        with console.status("evaluating on held-out test digits"):
            numbers = variants.evaluate(self.variant, self.model, self.data, self.device, cfg)
        metrics = {
            "steps": self.state.step,
            "train_seconds": round(self.state.seconds, 3),
            "device": device_name(self.device),
            "world_size": distributed.world_size(),
            **numbers,
        }
        run.save_json("metrics.json", metrics)
        if self.variant != "contrastive":  # transfer.png decodes: a contrastive model has no decoder
            source = min(cfg.metrics.transfer_source, self.data.n_contexts - 1)
            run.save_figure(
                "transfer.png", transfer_figure(self.model, self.data, self.device, source, cfg.metrics.transfer_digits)
            )
        run.save_figure("curves.png", curves_figure(self.state.rows, self.losses))
        run.describe(
            dataset=self.data.identity,
            n_contexts=self.data.n_contexts,
            frame=list(self.data.frame),
            model=self.model.config(),
            variant=self.variant,
            budget=variants.budget(self.variant, cfg, self.data, self.model),
        )
        self.metrics = metrics


def device_name(device: torch.device) -> str:
    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "cpu"


def _loss_text(row: dict, losses: tuple[str, ...]) -> str:
    return "  ".join(f"{name} {row[f'{name}_loss']:.4g}" for name in losses if row.get(f"{name}_loss") is not None)
