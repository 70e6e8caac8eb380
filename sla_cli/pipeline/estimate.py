"""What each planned step needs: memory (``sla_cli.memory``'s estimates, with the shapes the steps
before it will write), disk (the arrays and checkpoints it writes) and time on this device.

Time comes from a few timed steps and one reference machine. The learning stages (train, classify)
time two real training steps of their own set of autoencoders (``train.loop.train_step``, with the
stage's width, latent and batch; on a CPU two of its contexts, scaled by the count); the whole stage
is that times its steps times a factor measured on the reference machine (a 2-core Xeon, the README's
demo timings: what a stage spends besides its steps: evaluation, scoring, attacks, writing). The
other stages scale the reference's measured time by their work and by this device's speed against the
reference's on one fixed small step. So an estimate is good to about a factor of two where the
reference's shape resembles the plan's, and rough (a GPU, a busy CPU) elsewhere; the table says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from omegaconf import DictConfig

from sla_cli import memory
from sla_cli.pipeline.plan import Plan, PlannedStep

# -- the reference machine (2-core Xeon, CPU; docs/benchmarks.md and the README's demo timings) ---------
REF_SPEED_STEP_S = 0.006  # the fixed speed probe below (2 contexts, D 1024, H 128, B 32, one thread)
REF_TRAIN_OVERHEAD = 1.0  # a train stage's wall / (its steps x one probed step): demo 253 s for 2000 steps
REF_CLASSIFY_OVERHEAD = 4.0  # classify's wall / its set's steps: the MLPs, eq. (4) scoring, attacks (demo 372 s)
THREAD_EFFICIENCY = 0.6  # each CPU thread past the first adds this much of one (2 threads on the reference: 1.6x)
REF_CONTEXT_IMAGE_S = 6.7e-6  # generate-cubes: one digit in one context at 48 px, 2x2 supersampled (41 s / 6.1 M)
REF_CUBE_S = 1.34e-3  # generate-cubes: one painted cube at 48 px, 2x2 supersampled (73 s / 54,321)
REF_ONESHOT_S, REF_CONCEPT_S = 8.0, 14.0  # demo: 100 contexts, 32 px, hidden 128
REF_EVAL_WORK = 100 * 1024 * 128  # contexts x pixels x hidden of the demo model
CHECKPOINT_COPIES = 3  # a checkpoint holds the weights and Adam's two moments


@dataclass
class StepNeeds:
    memory: memory.Parts = field(default_factory=dict)
    disk: float = 0.0
    seconds: float = 0.0


@dataclass
class Probe:
    """Timed steps on this device, cached by shape."""

    device: object
    cache: dict = field(default_factory=dict)
    spent: float = 0.0

    def step_seconds(self, c: int, d: int, h: int, latent: int, b: int, threads: int) -> float:
        """Seconds of one training step (the mean of a self and a cross step) of a set of ``c`` contexts
        at batch ``b``, with the stage's ``threads`` (0: every core)."""
        import torch

        on_gpu = getattr(self.device, "type", "cpu") == "cuda"
        c_run, b_run = (c, b) if on_gpu else (min(c, 2), min(b, 16))  # a CPU's time grows linearly in both
        key = (c_run, d, h, latent, b_run)
        if key not in self.cache:
            before, started = torch.get_num_threads(), time.perf_counter()
            torch.set_num_threads(1)  # one thread: steady on a busy CPU, where idle threads spin-wait
            try:
                self.cache[key] = _time_steps(self.device, c_run, d, h, latent, b_run)
            finally:
                torch.set_num_threads(before)
                self.spent += time.perf_counter() - started
        return self.cache[key] * (c / c_run) * (b / b_run) / (1 if on_gpu else _speedup(threads))

    def slowdown(self) -> float:
        """This device's time on the fixed probe over the reference's (> 1: slower)."""
        return self.step_seconds(2, 1024, 128, 16, 32, 1) / REF_SPEED_STEP_S


def _speedup(threads: int) -> float:
    import os

    n = threads if threads > 0 else (os.cpu_count() or 1)
    return 1 + THREAD_EFFICIENCY * (min(n, 64) - 1)


class _NoUpdate:
    """Stands in for the optimizer in a timed step: gradients are computed, the weights stay."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        pass

    def step(self) -> None:
        pass


def _time_steps(device, c: int, d: int, h: int, latent: int, b: int, repeats: int = 2) -> float:
    import torch

    from sla_cli.models.ae_set import AutoencoderSet
    from sla_cli.train.loop import random_derangement, train_step

    gen = torch.Generator().manual_seed(0)
    model = AutoencoderSet(c, d, h, latent).to(device)
    optimizer = _NoUpdate()  # Adam's update is a few % of a step; building one imports torch._dynamo (seconds)
    x = torch.rand(c, b, d, generator=gen).to(device)
    weight = torch.full((c, 1, d), 1.0 / (c * d), device=device)
    perm = random_derangement(c, gen).to(device)

    def pair() -> None:
        for kind in ("self", "cross"):
            train_step(model, optimizer, x, weight, kind, perm)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    pair()  # warm-up: allocations, kernel choice
    best = float("inf")
    for _ in range(repeats):  # the fastest: what the device does when nothing else runs on it
        started = time.perf_counter()
        pair()
        best = min(best, (time.perf_counter() - started) / 2)
    return best


def _dataset_shape(cfg: DictConfig) -> tuple[int, int, int]:
    return cfg.contexts.n_side + cfg.contexts.n_top, cfg.render.size**2, cfg.digits.train


def _shapes(plan: Plan, planned: PlannedStep) -> memory.Shapes:
    by_name = {p.name: p for p in plan.steps}
    dataset = by_name["dataset"].cfg
    shape = _dataset_shape(dataset)
    model_step = planned.step.inputs.get("model_dir")
    model = None
    if model_step:
        m = by_name[model_step].cfg.model
        model = {"n_members": shape[0], "dim": shape[1], "hidden": m.hidden, "latent": m.latent, "tied": m.tied}
    models = 1 + sum(1 for k, f in planned.step.inputs.items() if k != "model_dir" and not by_name[f].skipped)
    return memory.Shapes(shape, model, models)


def _disk(planned: PlannedStep, shapes: memory.Shapes) -> float:
    cfg, kind = planned.cfg, planned.stage.kind
    if kind == "dataset":
        c, d, _ = shapes.dataset
        cubes = cfg.cubes.count * (2 if cfg.cubes.compare_digit is not None else 1)
        return (cfg.digits.train + cfg.digits.test) * c * d + cubes * d + c * d * 4 + 2e6
    if kind == "model":
        c, d, _ = shapes.dataset
        params = memory.set_parameters(c, d, cfg.model.hidden, cfg.model.latent, cfg.model.tied)
        return params * memory.F32 * (1 + CHECKPOINT_COPIES * (cfg.run.keep_checkpoints + 1)) + 2e6
    if kind == "classify":
        k = cfg.classify
        ae = memory.set_parameters(10, 784, k.autoencoder.hidden, k.autoencoder.latent)
        weights = 2 * ae + (784 + 10) * k.mlp.hidden  # the set, the MLP of its parameter count, the MLP
        # per seed: weights_seed<N>.pt and the seed's checkpoint; inside the seed being trained, each kind's
        # kept model (two with the validation grid on) checkpointed with Adam's moments, one more mid-write
        kept = 2 if k.tune.enabled else 1
        models = (kept * weights + ae) * CHECKPOINT_COPIES
        return (2 * len(k.seeds) * weights + models) * memory.F32 + 2e6
    return 5e6  # figures and JSON


def _seconds(planned: PlannedStep, shapes: memory.Shapes, probe: Probe) -> float:
    cfg, kind = planned.cfg, planned.stage.kind
    if kind == "dataset":
        c, d, _ = shapes.dataset
        scale = d * cfg.render.supersample**2 / (48 * 48 * 4)
        cubes = cfg.cubes.count * (2 if cfg.cubes.compare_digit is not None else 1)
        work = (cfg.digits.train + cfg.digits.test) * c * REF_CONTEXT_IMAGE_S + cubes * REF_CUBE_S
        return work * scale * probe.slowdown()
    if kind == "model":
        c, d, _ = shapes.dataset
        t = cfg.train
        left = max(t.steps - planned.resume_step, 0)  # a resumed run has only the rest to do
        return (
            left
            * REF_TRAIN_OVERHEAD
            * probe.step_seconds(c, d, cfg.model.hidden, cfg.model.latent, t.batch_size, cfg.run.threads)
        )
    if kind == "classify":
        k = cfg.classify
        n_train = k.train_size or 60000 - k.val_size
        steps = max(k.train.epochs * n_train // (10 * k.train.batch_size), k.train.min_steps)
        grid = 1
        if k.tune.enabled:
            grid = len(k.tune.dropout) * len(k.tune.weight_decay) * sum(k.tune.epochs) / k.train.epochs
        step = probe.step_seconds(
            10, 784, k.autoencoder.hidden, k.autoencoder.latent, k.train.batch_size, cfg.run.threads
        )
        return len(k.seeds) * grid * steps * step * REF_CLASSIFY_OVERHEAD
    m = shapes.model or {"n_members": 100, "dim": 1024, "hidden": 128}
    work = m["n_members"] * m["dim"] * m["hidden"] / REF_EVAL_WORK
    if kind == "oneshot":
        return REF_ONESHOT_S * work * shapes.models * probe.slowdown()
    if kind == "concept":
        second = cfg.concept.steps * cfg.concept.restarts / (500 * 2)
        return REF_CONCEPT_S * (work + second) / 2 * probe.slowdown()
    return 0.0


def needs(plan: Plan, device, probe: Probe | None = None, have: int | None = None) -> dict[str, StepNeeds]:
    """Each step's memory, disk and time; a step already done needs nothing (it is verified, not rerun)."""
    probe = probe or Probe(device)
    out = {}
    for planned in plan.active():
        if planned.state == "done":
            out[planned.name] = StepNeeds()
            continue
        shapes = _shapes(plan, planned)
        parts = memory.estimate(planned.stage.name, planned.cfg, device, shapes, have)
        out[planned.name] = StepNeeds(parts, _disk(planned, shapes), _seconds(planned, shapes, probe))
    return out
