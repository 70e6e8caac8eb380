"""The stage registry is the one table: the command table, the report, aggregate, verify and the
pipeline read it, and no stage spells another stage's file names."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from helpers.cli import REPO
from sla_cli.commands import COMMANDS
from sla_cli.pipeline.registry import BY_KIND, PIPELINE, STAGES, STEP_BY_FOLDER

# Each kind's files belong to the package of the stage that writes them.
OWNER = {"dataset": "sla_cli/generate_cubes", "model": "sla_cli/train", "classify": "sla_cli/classify",
         "density": "sla_cli/density", "oneshot": "sla_cli/eval/oneshot", "concept": "sla_cli/eval/concept"}
# Readers other branches were changing at the time of writing (baselines: eval/model_dir.py; report:
# report/figures.py, report/density.py): they move to the registry's names once merged. The test fails
# when one that exists no longer needs its place here.
PENDING = {"sla_cli/eval/model_dir.py", "sla_cli/report/figures.py", "sla_cli/report/density.py"}


def test_the_command_table_is_the_registry():
    assert COMMANDS == list(STAGES)
    for stage in STAGES:
        assert (REPO / "conf" / f"{stage.config_name}.yaml").is_file(), stage.name
        assert set(stage.required) <= set(stage.file_names), stage.name
        if stage.numbers is not None:
            assert stage.numbers in stage.file_names


def test_every_step_reads_folders_written_before_it_of_the_kind_it_reads():
    seen = {}
    for step in PIPELINE:
        for key, folder in step.inputs.items():
            assert folder in seen, f"{step.folder} reads {folder}/ before it is written"
            declared = [i for i in step.stage.reads if i.key == key or (i.key.endswith(".*") and
                                                                         key.startswith(i.key[:-1]))]
            assert declared and declared[0].kind == seen[folder].kind, (step.folder, key)
        seen[step.folder] = step.stage
    assert len(STEP_BY_FOLDER) == len(PIPELINE)


def test_the_report_aggregate_and_memory_read_the_registry():
    from sla_cli import memory
    from sla_cli.aggregate.collect import METRIC_FILES
    from sla_cli.report.collect import STAGES as REPORT_STAGES

    assert [s.folder for s in REPORT_STAGES] == [s.folder for s in PIPELINE]
    assert all(s.kind == STEP_BY_FOLDER[s.folder].stage.kind and s.data == STEP_BY_FOLDER[s.folder].stage.numbers
               for s in REPORT_STAGES)
    assert METRIC_FILES == {s.kind: s.numbers for s in STAGES if s.numbers}
    assert set(memory.ESTIMATES) <= set(BY_KIND)


def _file_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for stage in STAGES:
        for f in fields(stage.files):
            names.setdefault(getattr(stage.files, f.name), set()).add(stage.kind)
    return names


def _offences(path: Path, names: dict[str, set[str]]) -> list[str]:
    rel = path.relative_to(REPO).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
            if not any(rel.startswith(OWNER[kind] + "/") for kind in names[node.value]):
                found.append(f"{rel}:{node.lineno} spells {node.value!r}")
    return found


def test_no_stage_spells_another_stages_file_names():
    names = _file_names()
    files = [p for p in (REPO / "sla_cli").rglob("*.py") if p.name != "registry.py"]
    offences = {p.relative_to(REPO).as_posix(): _offences(p, names) for p in files}
    bad = [o for rel, found in offences.items() if rel not in PENDING for o in found]
    assert not bad, bad
    done = sorted(rel for rel in PENDING if rel in offences and not offences[rel])
    assert not done, f"{done} no longer spell another stage's files: take them off PENDING"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_verify_refuses_a_manifest_without_a_required_file(tmp_path, stage):
    from omegaconf import OmegaConf

    from sla_cli import runfolder
    from sla_cli.errors import DataError
    from sla_cli.verify import verify

    with runfolder.Run(tmp_path / "run", stage.kind, OmegaConf.create({"seed": 0})) as run:
        for name in stage.required[1:]:
            run.save_text(name, "x")
    with pytest.raises(DataError, match=f"lists no {stage.required[0]}"):
        verify(tmp_path / "run")
