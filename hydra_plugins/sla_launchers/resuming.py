"""Hydra's submitit launchers (SLURM, local) with a requeue that resumes the run.

Shortly before a job's time limit (or on preemption) submitit signals it and calls the launcher's
``checkpoint``; the stock one requeues the very same call, which would start `sla train` again from
step 0 -- and `sla train` refuses to start over a folder holding checkpoints of an unfinished run.
These requeue it with run.resume=true, so the job continues from its last checkpoint. Commands
that do not checkpoint mid-run (no run.stop_after key: all but train and density) are requeued
unchanged (they start again; classify's run.resume=auto reads back the seeds it had finished).

conf/hydra/launcher/slurm.yaml and local.yaml name these classes. Hydra imports this module at every
start-up (plugin discovery): without the `cluster` extra it defines nothing and costs nothing.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

try:
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import LocalLauncher, SlurmLauncher
except ImportError:  # no cluster extra: no launchers to offer
    LocalLauncher = SlurmLauncher = None

RESUME = "run.resume=true"


def requeue_overrides(config: DictConfig | None, overrides: list[str]) -> list[str]:
    """A job's overrides for its requeued run: run.resume=true for commands that checkpoint mid-run
    (Hydra gets argv with old spellings renamed: a train.resume= is a run.resume= here)."""
    if config is None or OmegaConf.select(config, "run.stop_after", default=None) is None:
        return list(overrides)
    kept = [o for o in overrides if o.lstrip("+~").split("=", 1)[0] != "run.resume"]
    return [*kept, RESUME]


class _ResumeOnRequeue:
    def checkpoint(self, sweep_overrides: list[str], *args: Any, **kwargs: Any) -> Any:
        return super().checkpoint(requeue_overrides(self.config, sweep_overrides), *args, **kwargs)


if SlurmLauncher is not None:

    class ResumingSlurmLauncher(_ResumeOnRequeue, SlurmLauncher):
        pass

    class ResumingLocalLauncher(_ResumeOnRequeue, LocalLauncher):
        pass


def register() -> None:
    """Tell Hydra of these launchers directly: its plugin scan lists the folders of the hydra_plugins
    namespace, and an editable install (`pip install -e .`) maps this one without a folder to list."""
    if SlurmLauncher is None:
        return
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # scans first (re-running this module when it finds it): then read the classes
    for launcher in (globals()["ResumingSlurmLauncher"], globals()["ResumingLocalLauncher"]):
        plugins.register(launcher)
