"""The pipeline's plan: each step's config, composed and checked, and the state of its folder.

Overrides are routed by key: ``preset``, ``seed``, ``run.device``... go to every stage; a stage key
(``train.steps``, ``classify.seeds``) to every step whose stage has it; ``FOLDER:key=value``
(``model_self_only:train.steps=500``) to that step alone. A key no stage knows is refused like an
unknown key of any command. The folders a step reads (``dataset_dir``, ``model_dir``...) are set
from the steps before it and cannot be overridden. Nothing here writes.
"""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from sla_cli import runfolder
from sla_cli.errors import ConfigError, DataError
from sla_cli.pipeline.registry import PIPELINE, STEP_BY_FOLDER, Stage, Step


@dataclass
class PlannedStep:
    step: Step
    cfg: DictConfig
    folder: Path
    state: str  # done | resume | rerun | to run
    note: str = ""  # why, for the table (a checkpoint's step, a leftover folder)
    skipped: str = ""  # non-empty: not run, and why (pipeline.skip, or an input step skipped)
    resume_step: int = 0  # state resume: the step of the checkpoint it continues from
    overrides: list[str] = field(default_factory=list)  # `sla <command> preset=P *overrides` composes cfg

    def command(self, preset: str) -> list[str]:
        """The `sla` arguments that run this step on its own (pipeline.jobs > 1 runs it so)."""
        return [*self.stage.name.split(), f"preset={preset}", *self.overrides]

    @property
    def name(self) -> str:
        return self.step.folder

    @property
    def stage(self) -> Stage:
        return self.step.stage


@dataclass
class Plan:
    out: Path
    preset: str
    steps: list[PlannedStep] = field(default_factory=list)

    def active(self) -> list[PlannedStep]:
        return [s for s in self.steps if not s.skipped]


def _split(override: str) -> tuple[str | None, str, str]:
    """``[FOLDER:]key=value`` -> (folder or None, key, the override without the folder)."""
    body = override
    folder = None
    head, colon, rest = override.partition(":")
    if colon and "=" not in head and head.lstrip("+") in STEP_BY_FOLDER:
        folder, body = head.lstrip("+"), ("+" if head.startswith("+") else "") + rest
    key = body.split("=", 1)[0].lstrip("+~")
    if "=" not in body or not key:
        raise ConfigError(f"bad override {override!r}: expected key=value (or FOLDER:key=value for one stage)")
    return folder, key, body


def _node(cfg: DictConfig, key: str):
    """The node at a dotted key (a value still ??? included, nothing resolved), or None."""
    head, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, head, default=None, throw_on_missing=False) if head else cfg
    if not isinstance(parent, DictConfig) or leaf not in parent.keys():
        return None
    return parent._get_node(leaf)


def _has_key(cfg: DictConfig, stage: Stage, key: str, adds: bool) -> bool:
    if adds:  # +section.NAME=value: only where the stage keeps that section open
        return key.rsplit(".", 1)[0] in stage.open_sections
    return _node(cfg, key) is not None


def route(overrides: list[str], base: dict[str, DictConfig]) -> dict[str, list[str]]:
    """Each step folder's share of the user's overrides; ``base``: each stage's composed config."""
    from sla_cli.hydra_app import renamed_key, renamed_overrides

    routed: dict[str, list[str]] = {s.folder: [] for s in PIPELINE}
    noted: set[str] = set()
    inputs = {k for s in PIPELINE for k in s.inputs}
    for override in overrides:
        folder, key, body = _split(override)
        if key in inputs or key in ("run.out", "out"):
            raise ConfigError(
                f"{key} is set by the pipeline (each stage writes OUT/<stage> and reads the folders "
                "before it); run that stage alone with `sla <command>` to point it elsewhere"
            )
        steps = [STEP_BY_FOLDER[folder]] if folder else list(PIPELINE)
        # an old spelling (classify.members=made) is read as the stage reads it, with the stage's note
        # (never into an input the pipeline sets: model= stays train's model section, not oneshot's model_dir)
        bodies = {
            s.folder: body if renamed_key(s.stage, key) in inputs else renamed_overrides(s.stage, [body], noted)[0]
            for s in steps
        }
        takers = [
            s for s in steps if _has_key(base[s.stage.name], s.stage, _split(bodies[s.folder])[1], body.startswith("+"))
        ]
        if not takers:
            where = f"stage {folder} ({folder and STEP_BY_FOLDER[folder].stage.name})" if folder else "no stage"
            raise ConfigError(f"unknown key {key}: {where} has it; `sla <command> --help` lists a stage's keys")
        for s in takers:
            routed[s.folder].append(bodies[s.folder])
    return routed


def compose_all(out: Path, preset: str, overrides: list[str], skip: list[str]) -> Plan:
    """Every step's config, checked as `sla <command>` checks it; a ConfigError line otherwise.

    Hydra composes each stage once (at the preset); a step's settings that only set existing values
    (``run.device=cpu``, ``train.cross_steps=0``, its input folders, ``out``) are applied to a copy of it,
    as Hydra applies them after composing. A step with any other override (a config group, ``+key``)
    is composed by Hydra in full. Composing took about 0.5-1 s a time: once per step made the
    pre-flight of the paper preset miss its 10 s on a busy 2-core machine."""
    from sla_cli.hydra_app import check_config, compose_config

    unknown = [s for s in skip if s not in STEP_BY_FOLDER]
    if unknown:
        raise ConfigError(f"pipeline.skip names {unknown[0]}, not a stage (stages: {', '.join(STEP_BY_FOLDER)})")
    base = {}
    for stage in dict.fromkeys(s.stage for s in PIPELINE):
        base[stage.name] = compose_config(stage, [f"preset={preset}"], check_values=False)
    routed = route(overrides, base)
    plan = Plan(out, preset)
    for step in PIPELINE:
        skipped = "pipeline.skip" if step.folder in skip else ""
        absent = [
            o.split("=", 1)[0]
            for o in step.overrides
            if not _has_key(base[step.stage.name], step.stage, o.split("=", 1)[0], False)
        ]
        if absent and not skipped:  # a step of a stage option this version of sla does not have
            skipped = f"this sla {step.stage.name} has no {absent[0]}"
        feeds = [f for f in step.inputs.values() if f in skip or _skipped(plan, f)]
        required = [k for k, f in step.inputs.items() if f in feeds and k in ("dataset_dir", "model_dir")]
        if not skipped and required:
            skipped = f"needs {step.inputs[required[0]]}/, which is skipped"
        inputs = [f"{k}={out / f}" for k, f in step.inputs.items() if f not in feeds]
        own = [] if absent else list(step.overrides)
        settings = [*routed[step.folder], *own, *inputs, f"run.out={out / step.folder}"]
        try:
            cfg = _with_values(base[step.stage.name], settings)
            if cfg is None:
                cfg = compose_config(step.stage, [f"preset={preset}", *settings], check_values=False)
            if not skipped:
                check_config(step.stage, cfg)
        except ConfigError as e:
            raise ConfigError(f"stage {step.folder} (sla {step.stage.name}): {e}") from None
        plan.steps.append(
            PlannedStep(
                step, cfg, out / step.folder, "skipped" if skipped else "to run", skipped=skipped, overrides=settings
            )
        )
    for planned in plan.active():
        planned.state, planned.note, planned.resume_step = folder_state(planned)
    return plan


def _with_values(base: DictConfig, overrides: list[str]) -> DictConfig | None:
    """A copy of ``base`` with ``overrides`` applied as Hydra applies a value override once the config
    is composed (``OmegaConf.update(cfg, key, value, merge=True)``), or None when one of them is more
    than a value: a config group, an added or deleted key, a sweep, a key ``base`` lacks, a value
    that does not fit. None: let Hydra compose it (and word its error)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from sla_cli.hydra_app import CONF_DIR

    parser = OverridesParser.create()
    values = []
    for text in overrides:
        try:
            override = parser.parse_override(text)
        except Exception:  # noqa: BLE001  Hydra words the error when it composes
            return None
        key = override.key_or_group
        if (
            override.is_add()
            or override.is_force_add()
            or override.is_delete()
            or override.is_sweep_override()
            or override.package is not None
            or "/" in key
            or (CONF_DIR / key).is_dir()
        ):
            return None
        if _node(base, key) is None or isinstance(_node(base, key), DictConfig):
            return None
        values.append((key, override.value()))
    cfg = copy.deepcopy(base)
    try:
        for key, value in values:
            OmegaConf.update(cfg, key, value, merge=True)
    except Exception:  # noqa: BLE001  a value the node refuses: Hydra's compose says why
        return None
    return cfg


def _skipped(plan: Plan, folder: str) -> bool:
    return any(p.name == folder and p.skipped for p in plan.steps)


def recorded_config(planned: PlannedStep) -> DictConfig:
    """The config the step's run folder records: the composed one, or what the stage's module makes of
    it where it defines ``identity_cfg`` (train and density leave out the keys that do not shape the
    run, e.g. train.variant for a set), so a finished run is recognised as done."""
    module = importlib.import_module(planned.stage.module)
    return getattr(module, "identity_cfg", lambda cfg: cfg)(planned.cfg)


def folder_state(planned: PlannedStep) -> tuple[str, str, int]:
    """(done | resume | rerun | to run, a note, the checkpoint's step) from what the step's folder holds;
    a folder holding a different run is a one-line DataError naming the keys that differ (nothing is
    overwritten)."""
    folder, stage = planned.folder, planned.stage
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder; choose another run.out=DIR")
    manifest_path = folder / runfolder.MANIFEST
    new = runfolder.config_dict(recorded_config(planned), folder)
    if manifest_path.exists():
        old = runfolder.load_manifest(manifest_path)
        if old["kind"] == stage.kind and runfolder.identity(old["config"]) == runfolder.identity(new):
            return "done", "", 0
        if planned.cfg.run.overwrite:
            return "rerun", "run.overwrite=true replaces the run there", 0
        changed = runfolder.differences(runfolder.experiment(old["config"]), runfolder.experiment(new))
        what = (
            f"another kind of run ({old['kind']})"
            if old["kind"] != stage.kind
            else f"a different {stage.kind} run ({changed})"
        )
        raise DataError(
            f"{folder} already holds {what}; choose another run.out=DIR, pass run.overwrite=true, "
            f"or {stage.name} settings that match"
        )
    from sla_cli.training.checkpoint import list_checkpoints

    found = list_checkpoints(folder) if folder.is_dir() else []
    if found:
        return "resume", f"from its checkpoint at step {found[-1][0]}", found[-1][0]
    if folder.is_dir() and any(folder.iterdir()):
        return "to run", "an unfinished run's files are there: it starts again", 0
    return "to run", "", 0
