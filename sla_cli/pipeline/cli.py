"""`sla pipeline preset=... run.out=... [key=value ...]`: the whole paper in one command, in this process
(``pipeline.jobs=N``: up to N stages at once, each in its own; sla_cli/pipeline/parallel.py).

Every stage of the registry's pipeline (generate-cubes, train, classify, the self-only ablation and
the one-shot baselines, eval oneshot, eval concept) writes OUT/<stage>, then OUT/report.md. First
the plan: every stage's config composed and checked, each folder's state (done, to resume, to run),
and the pre-flight table (disk, memory, time on this device); nothing is written before it passes.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from sla_cli import interrupt
from sla_cli.errors import USER_ERRORS, ConfigError

USAGE = (
    "usage: sla pipeline [preset=smoke|demo|paper] [run.out=DIR] [key=value ...] [FOLDER:key=value ...] "
    "[pipeline.KEY=...]"
)
DESCRIPTION = """\
Runs every stage into OUT/<stage> (default OUT: outputs/<preset>) and writes OUT/report.md.

  preset=P                  every stage's preset (default demo)
  run.out=DIR               the run root
  key=value                 to every stage whose config has the key (seed, run.device, run.threads, train.steps, ...)
  FOLDER:key=value          to one stage only, e.g. model_self_only:train.steps=500
  pipeline.confirm=false    run a plan that would take hours on a CPU without asking (scripts)
  pipeline.skip=[a,b]       stages not to run (and those that need them)
  pipeline.report=false     no report at the end
  pipeline.made_by=TEXT     the command the report records
  pipeline.dry_run=true     the pre-flight table only, then stop (nothing written)
  pipeline.jobs=N           up to N stages at once, each in its own process (output: OUT/logs/<stage>.log)

A stage whose folder holds the same complete run is verified and skipped; an interrupted one
resumes (train from its last checkpoint). Ctrl-C or SIGTERM stops the whole pipeline (exit 130/143).
Stages: {stages}"""


def _fail(error: Exception) -> int:
    print(f"sla pipeline: error: {error}", file=sys.stderr)
    return getattr(error, "exit_code", 1)


def _pipeline_settings(overrides: list[str]):
    """conf/pipeline.yaml with the pipeline.* overrides applied (Hydra's grammar for the values)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from sla_cli.hydra_app import CONF_DIR, one_line
    from sla_cli.schema.pipeline import PipelineConfig
    from sla_cli.schema.validate import type_error, validate

    cfg = OmegaConf.structured(PipelineConfig)  # the types; the values: conf/pipeline.yaml
    cfg.merge_with(OmegaConf.load(CONF_DIR / "pipeline.yaml"))
    OmegaConf.set_struct(cfg, True)
    parser = OverridesParser.create()
    for text in overrides:
        try:
            override = parser.parse_override(text)
            OmegaConf.update(cfg, override.key_or_group, override.value(), merge=False)
        except Exception as e:  # noqa: BLE001  Hydra's and OmegaConf's errors both mean a bad override
            key = text.split("=", 1)[0]
            if key not in {f"pipeline.{k}" for k in cfg.pipeline}:
                raise ConfigError(
                    f"unknown key {key}; the pipeline's own keys: {', '.join('pipeline.' + k for k in cfg.pipeline)}"
                ) from None
            raise ConfigError(type_error(e, PipelineConfig) or f"bad override {text!r}: {one_line(str(e))}") from None
    validate(cfg, PipelineConfig)  # the types: OmegaConf's, on each override above
    return cfg.pipeline


def parse(argv: list[str]) -> tuple[str, Path, list[str], list[str]]:
    """(preset, out, the stages' overrides, the pipeline's own) from argv; ConfigError on a bad one."""
    preset, out, stage_args, own = "demo", None, [], []
    for arg in argv:
        if arg.startswith("-"):
            raise ConfigError(
                f"unknown option {arg} (sla pipeline takes key=value overrides; "
                "-m sweeps run one stage at a time: sla <command> -m ...)"
            )
        key, eq, value = arg.partition("=")
        if not eq:
            raise ConfigError(f"bad argument {arg!r}: expected key=value")
        if key == "out":  # the old spelling (RUN_KEYS), read as the stages read it: with one note
            print("sla pipeline: note: out= is now run.out= (the old name still works)", file=sys.stderr)
            key = "run.out"
        if key == "preset":
            preset = value
        elif key == "run.out":
            out = Path(value)
        elif key.startswith("pipeline."):
            own.append(arg)
            continue
        if key != "run.out":
            stage_args.append(arg)
    from sla_cli.config_checks import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"preset={preset} must be one of {', '.join(PRESETS)}")
    stage_args = [a for a in stage_args if not a.startswith("preset=")]
    return preset, out or Path("outputs") / preset, stage_args, own


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        from sla_cli.pipeline.registry import PIPELINE

        print(USAGE)
        print(DESCRIPTION.format(stages=", ".join(f"{s.folder} (sla {s.stage.name})" for s in PIPELINE)))
        return 0
    try:
        preset, out, stage_args, own = parse(argv)
        settings = _pipeline_settings(own)
        command = settings.made_by or "sla pipeline " + " ".join(shlex.quote(a) for a in argv)
        from sla_cli.hydra_app import check_out
        from sla_cli.pipeline.plan import compose_all

        check_out(str(out))
        plan = compose_all(out, preset, stage_args, list(settings.skip))
        from sla_cli.pipeline.preflight import Machine, preflight
        from sla_cli.runtime import resolve_device

        devices = {str(p.cfg.run.device) for p in plan.active()}
        device = resolve_device("cuda" if "cuda" in devices else "auto" if "auto" in devices else "cpu")
        est = preflight(plan, Machine.here(device, out), settings.confirm, dry_run=settings.dry_run, jobs=settings.jobs)
    except USER_ERRORS as e:
        return _fail(e)
    if settings.dry_run:
        return 0
    from sla_cli.pipeline.runner import run

    try:
        code = run(plan, est, command, settings.report, jobs=settings.jobs)
    except USER_ERRORS as e:  # OUT in use by another pipeline (its lock), before any stage ran
        return _fail(e)
    if interrupt.installed():  # the `sla` process itself (not a test calling main): see _exit_now
        _exit_now(code)
    return code


def _exit_now(code: int) -> None:
    """Finished or stopped, everything is on disk (atomic writes, pipeline.json, the report, the lock
    released, each stage's logger closed): skip the interpreter's teardown, which took 1-5 s after the
    stages (torch's threads and allocators), time the pipeline would add to the sum of its stages and
    a Ctrl-C would wait for."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
