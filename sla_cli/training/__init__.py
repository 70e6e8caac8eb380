"""One training engine for every stage: ``fit`` (an Adam loop with a learning-rate schedule, bf16
autocast, the deferred NaN check, torchrun's gradient sync, a progress bar, checkpoints and
resume) and the checkpoint files it writes.

How a new trainer uses it (the four stages' trainers are examples: ``train/trainer.py`` with its
own step and checkpoints, ``density/loop.py`` in epochs with a test curve, ``classify/adam_loop.py``
under torchrun, ``eval/concept/second_level.py`` with no run folder)::

    from sla_cli.training import Checkpoints, EpochBatches, Log, MeanLosses, cosine_annealing, fit

    def batches(step):                       # the batch of step `step`; make every random draw here
        return x[torch.randint(len(x), (64,), generator=gen)]

    state = fit(model, batches, lambda batch: loss_of(model, batch), cosine_annealing(1e-3, 1000),
                steps=1000, generator=gen,   # gen: the sampler's generator, kept in checkpoints
                log=Log(every=50, meter=MeanLosses(), label="my stage", hint="try a lower my.lr"),
                checkpoints=Checkpoints(run, every=200, key={"lr": 1e-3, ...}),  # optional
                resume_from=None)            # or Checkpoints.latest()'s state to continue
    # state.rows: the log; state.finished: False when stopped at stop_at (resume later)

- The schedule is a function of the step counter (``constant``, ``cosine_annealing``, ``per_epoch``),
  so a resumed run needs no scheduler state. Epoch-based data: ``EpochBatches(steps_per_epoch,
  start, cut)`` (checkpoint every whole number of epochs).
- ``loss(batch)`` returns the objective, or ``(objective, {name: value})`` to record other values
  (the name is what a divergence error calls it). A trainer whose optimizer step is its own passes
  ``step=`` instead of ``loss``.
- Losses are read once per log or checkpoint interval (one host sync), not per step; a non-finite
  one raises ``TrainingDiverged`` naming the step and the last good checkpoint.
- Checkpoints go through the run folder (``runfolder.Run``): ``<run>/<subfolder>/checkpoints/
  step_<step>.pt``, ``step`` counting optimizer steps; what they hold is in ``checkpoint``.
- ``sharded=True`` when each torchrun rank gets a slice of the batch (``distributed.shard``).
"""

from sla_cli.training.checkpoint import Checkpoints
from sla_cli.training.fit import EachStep, FitState, Log, MeanLosses, Meter, TrainingDiverged, fit
from sla_cli.training.schedule import EpochBatches, constant, cosine_annealing, per_epoch

__all__ = [
    "Checkpoints",
    "EachStep",
    "EpochBatches",
    "FitState",
    "Log",
    "MeanLosses",
    "Meter",
    "TrainingDiverged",
    "constant",
    "cosine_annealing",
    "fit",
    "per_epoch",
]
