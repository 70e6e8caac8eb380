"""conf/pipeline.yaml: `sla pipeline`'s own keys (pipeline.*), read by sla_cli/pipeline/cli.py (not by Hydra)."""

from __future__ import annotations

from dataclasses import dataclass

from sla_cli.schema.fields import at_least, flag, given, section


@dataclass
class Pipeline:
    confirm: bool = flag()
    skip: list[str] = given(message="a list of stage folders, e.g. pipeline.skip=[classify]")
    report: bool = flag()
    made_by: str | None = given()
    dry_run: bool = flag()
    jobs: int = at_least(1)


@dataclass
class PipelineConfig:
    pipeline: Pipeline = section(Pipeline)
