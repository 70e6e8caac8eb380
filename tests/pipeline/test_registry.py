"""The stage registry is the one table: the command table, the report, aggregate, verify and the
pipeline read it, and no stage spells another stage's file names."""

from __future__ import annotations

import ast
import re
from dataclasses import fields

import pytest

from helpers.cli import REPO
from sla_cli.commands import COMMANDS
from sla_cli.pipeline.registry import BY_KIND, PIPELINE, STAGES, STEP_BY_FOLDER

# Each kind's files belong to the package of the stage that writes them.
OWNER = {
    "dataset": "sla_cli/generate_cubes",
    "model": "sla_cli/train",
    "classify": "sla_cli/classify",
    "density": "sla_cli/density",
    "oneshot": "sla_cli/eval/oneshot",
    "concept": "sla_cli/eval/concept",
}


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
            declared = [
                i for i in step.stage.reads if i.key == key or (i.key.endswith(".*") and key.startswith(i.key[:-1]))
            ]
            assert declared and declared[0].kind == seen[folder].kind, (step.folder, key)
        seen[step.folder] = step.stage
    assert len(STEP_BY_FOLDER) == len(PIPELINE)


def test_the_report_aggregate_and_memory_read_the_registry():
    from sla_cli import memory
    from sla_cli.aggregate.collect import METRIC_FILES
    from sla_cli.report.collect import STAGES as REPORT_STAGES

    assert [s.folder for s in REPORT_STAGES] == [s.folder for s in PIPELINE]
    assert all(
        s.kind == STEP_BY_FOLDER[s.folder].stage.kind and s.data == STEP_BY_FOLDER[s.folder].stage.numbers
        for s in REPORT_STAGES
    )
    assert METRIC_FILES == {s.kind: s.numbers for s in STAGES if s.numbers}
    assert set(memory.ESTIMATES) <= set(BY_KIND)


def _file_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for stage in STAGES:
        for f in fields(stage.files):
            names.setdefault(getattr(stage.files, f.name), set()).add(stage.kind)
    return names


def _docstrings(tree: ast.AST) -> set[int]:
    """Docstrings are prose (they may say which file a function reads); every other string is code."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _offences(rel: str, source: str, names: dict[str, set[str]]) -> list[str]:
    """Each string of SOURCE (the parts of an f-string included) that holds a file name of a stage
    whose package REL is not in: ``"model.pt"``, ``f"{folder}/model.pt"``, ``"see model/metrics.json"``."""
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, names)) + r")(?!\w)")
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for name in pattern.findall(node.value):
                if not any(rel.startswith(OWNER[kind] + "/") for kind in names[name]):
                    found.append(f"{rel}:{node.lineno} spells {name!r}")
    return found


def test_no_stage_spells_another_stages_file_names():
    names = _file_names()
    files = [p for p in (REPO / "sla_cli").rglob("*.py") if p.name != "registry.py"]
    bad = [o for p in files for o in _offences(p.relative_to(REPO).as_posix(), p.read_text(), names)]
    assert not bad, bad


@pytest.mark.parametrize(
    "source",
    ['X = "model.pt"\n', 'def f(d):\n    return f"{d}/masks.npy"\n', 'ROW = "see classify/results.json, key acc"\n'],
)
def test_the_spelling_check_finds_a_name_in_any_string_outside_its_stage(source):
    names = _file_names()
    assert _offences("sla_cli/report/x.py", source, names)
    owner = {
        '"model.pt"': "sla_cli/train/x.py",
        "masks.npy": "sla_cli/generate_cubes/x.py",
        "results.json": "sla_cli/classify/x.py",
    }
    rel = next(r for key, r in owner.items() if key in source)
    assert not _offences(rel, source, names)  # its own stage may
    assert not _offences("sla_cli/report/x.py", '"""Reads model.pt."""\n', names)  # prose may


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
