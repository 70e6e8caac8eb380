"""Everyday habits of a command-line tool: --version, `sla eval` alone, shell completion, unknown keys
(with or without +), refusals that name what differs, aggregate on a non-sweep, MNIST's hint."""

from __future__ import annotations

import re

import pytest
from omegaconf import OmegaConf

from helpers.cli import assert_one_line_error, run_sla
from sla_cli import runfolder
from sla_cli.errors import DataError


def test_version():
    result = run_sla("--version")
    assert result.returncode == 0 and re.fullmatch(r"sla \S+\n", result.stdout), result.stdout


def test_eval_alone_lists_its_subcommands():
    result = run_sla("eval")
    assert result.returncode == 0, result.stderr
    assert "eval oneshot" in result.stdout and "eval concept" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "override, fragment",
    [
        ("+nosuchkey=1", "unknown key nosuchkey;"),
        ("nosuchkey=1", "unknown key nosuchkey;"),
        ("+train.stpes=1", "unknown key train.stpes (did you mean train.steps"),
        ("train.stpes=1", "unknown key train.stpes (did you mean train.steps"),
    ],
)
def test_an_unknown_key_is_refused_with_or_without_plus(override, fragment):
    assert_one_line_error(run_sla("train", "preset=smoke", "dataset_dir=x", override), fragment, code=2)


def test_plus_adds_only_to_a_section_meant_to_grow():
    from helpers.stages import compose

    cfg = compose("eval oneshot", "preset=smoke", "model_dir=x", "+oneshot.baseline_model_dirs.mine=/tmp")
    assert cfg.oneshot.baseline_model_dirs.mine == "/tmp"


@pytest.mark.slow
def test_shell_completion_installs_for_sla_and_completes_commands_and_keys():
    script = run_sla("train", "-sc", "install=bash")
    assert script.returncode == 0, script.stderr
    assert script.stdout.rstrip().endswith("-F hydra_bash_completion sla")
    for line, expected in (
        ("sla tr", {"train"}),
        ("sla ev", {"eval"}),
        ("sla eval ", {"oneshot", "concept"}),
        ("sla train model.hid", {"model.hidden="}),
        ("sla eval oneshot oneshot.sour", {"oneshot.source_context="}),
    ):
        result = run_sla("-sc", "query=bash", env={"COMP_LINE": line})
        assert result.returncode == 0, result.stderr
        assert set(result.stdout.split()) == expected, (line, result.stdout)


def test_a_folder_of_another_run_is_refused_naming_the_keys_that_differ(tmp_path):
    cfg = OmegaConf.create({"seed": 0, "out": str(tmp_path), "train": {"lr": 0.1, "steps": 10}, "threads": 1})
    with runfolder.Run(tmp_path, "model", cfg) as run:
        run.save_text("metrics.json", "{}")
    other = OmegaConf.create({**OmegaConf.to_container(cfg), "seed": 1, "threads": 4})
    other.train.steps = 20
    with pytest.raises(DataError) as caught, runfolder.Run(tmp_path, "model", other):
        pass
    message = str(caught.value)
    assert "seed: 0 -> 1" in message and "train.steps: 10 -> 20" in message and "threads" not in message


@pytest.mark.slow
def test_aggregate_refuses_a_run_folder_and_a_pipeline_root(tmp_path):
    run = tmp_path / "root" / "model"
    with runfolder.Run(run, "model", OmegaConf.create({"seed": 0})) as r:
        r.save_text("metrics.json", "{}")
    with runfolder.Run(tmp_path / "root" / "dataset", "dataset", OmegaConf.create({"seed": 0})) as r:
        r.save_text("masks.npy", "x")
    assert_one_line_error(run_sla("aggregate", str(run)), "is one run folder, not a sweep", code=1)
    assert_one_line_error(run_sla("aggregate", str(tmp_path / "root")), "pipeline's run root", "sla report", code=1)


def test_no_mnist_points_at_download(tmp_path):
    from data_gen.errors import InputDataError
    from data_gen.mnist import load_split

    with pytest.raises(InputDataError, match="run.download=true"):
        load_split(tmp_path, "train")
