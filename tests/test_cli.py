"""The `sla` command: help, dispatch, config composition for every preset, one-line config errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from helpers.cli import REPO, assert_one_line_error, run_sla
from sla_cli.commands import COMMANDS
from sla_cli.config_checks import PRESETS
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import compose_config, one_line


def test_help_lists_every_subcommand():
    result = run_sla("--help")
    assert result.returncode == 0
    for cmd in COMMANDS:
        assert f"  {cmd.name}  " in result.stdout or f"  {cmd.name} " in result.stdout


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "sla"
    if not script.exists():
        pytest.skip("not installed with pip in this interpreter's environment")
    import subprocess

    result = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "generate-cubes" in result.stdout


@pytest.mark.parametrize("argv", [["bogus"], ["eval", "nope"]])
def test_unknown_subcommand_is_one_line_exit_2(argv):
    assert_one_line_error(run_sla(*argv), "unknown command", code=2)


# The run folders a command reads are required keys: without them its config does not validate.
REQUIRED = {
    "train": ["dataset_dir=some/dataset"],
    "eval oneshot": ["model_dir=some/model"],
    "eval concept": ["model_dir=some/model"],
}


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
@pytest.mark.parametrize("preset", PRESETS)
def test_every_config_composes_for_every_preset(cmd, preset):
    cfg = compose_config(cmd, [f"preset={preset}", *REQUIRED.get(cmd.name, [])])
    assert cfg.preset == preset
    assert cfg.seed == 0 and cfg.run.device == "auto"


@pytest.mark.slow
@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c.name)
def test_subcommand_help_shows_its_config(cmd):
    result = run_sla(*cmd.name.split(), "--help")
    assert result.returncode == 0
    assert cmd.summary.split(",")[0][:20] in result.stdout or "preset" in result.stdout
    assert "seed:" in result.stdout


@pytest.mark.slow
def test_cfg_job_prints_overridden_config_even_without_required_values():
    result = run_sla("train", "--cfg", "job", "preset=smoke", "seed=7")
    assert result.returncode == 0, result.stderr
    assert "seed: 7" in result.stdout and "preset: smoke" in result.stdout and "dataset_dir: ???" in result.stdout


@pytest.mark.slow
def test_cfg_job_still_rejects_an_override_that_does_not_compose():
    assert_one_line_error(run_sla("train", "--cfg", "job", "nosuchkey=1"), "nosuchkey", code=2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "override, fragment",
    [
        ("preset=huge", "preset/huge"),
        ("nosuchkey=1", "nosuchkey"),
        ("seed=-1", "seed"),
        ("seed=abc", "seed"),
        ("run.device=gpu", "device"),
        ("run.overwrite=maybe", "overwrite"),
        ("seed=[1", "seed"),
    ],
)
def test_bad_override_is_one_line_error_naming_the_key(override, fragment):
    assert_one_line_error(run_sla("generate-cubes", override), fragment, code=2)


@pytest.mark.slow
def test_sweep_is_checked_before_any_job_runs(tmp_path):
    result = run_sla("generate-cubes", "-m", "seed=0,-5", f"run.out={tmp_path / 'sweep'}")
    assert_one_line_error(result, "seed=-5", code=2)
    assert not (tmp_path / "sweep").exists()


def test_hydra_messages_collapse_to_one_line():
    text = "In 'x': Could not find 'preset/a'\n\nAvailable options in 'preset':\n\tdemo\nConfig search path:\n\tp"
    assert one_line(text) == "In 'x': Could not find 'preset/a' Available options in 'preset': demo"


@pytest.mark.slow
def test_missing_required_folder_is_named():
    assert_one_line_error(run_sla("train", "preset=smoke"), "dataset_dir=DIR is required", code=2)


def test_compose_config_raises_config_error_for_bad_value():
    with pytest.raises(ConfigError, match="device"):
        compose_config(COMMANDS[0], ["run.device=tpu"])


def test_makefile_names_the_common_jobs():
    makefile = (REPO / "Makefile").read_text()
    for target in ("test:", "reproduce-paper:", "install:", "demo:", "bench:"):
        assert f"\n{target}" in makefile


@pytest.mark.slow
def test_multirun_writes_one_complete_folder_per_job(tmp_path, mnist_root):
    sweep = tmp_path / "sweep"
    result = run_sla(
        "generate-cubes",
        "-m",
        "preset=smoke",
        "seed=0,1",
        "digits.train=20",
        "digits.test=10",
        "cubes.count=4",
        f"run.out={sweep}",
        env={"SLA_DATA_ROOT": str(mnist_root)},
    )
    assert result.returncode == 0, result.stderr
    seeds = [json.loads((sweep / job / "manifest.json").read_text())["seed"] for job in ("0", "1")]
    assert seeds == [0, 1]


@pytest.mark.slow
def test_renamed_keys_keep_working_with_a_one_line_note_each():
    """classify.members/member/model and train's eval: spelled the old way, read the new way."""
    result = run_sla(
        "classify",
        "--cfg",
        "job",
        "preset=smoke",
        "classify.members=ae",
        "classify.model.hidden=8",
        "classify.member.epochs=2",
    )
    assert result.returncode == 0, result.stderr
    notes = result.stderr.strip().splitlines()
    assert notes == [
        "sla classify: note: classify.members= is now classify.density_classifier= (the old name still works)",
        "sla classify: note: classify.model.hidden= is now classify.autoencoder.hidden= (the old name still works)",
        "sla classify: note: classify.member.epochs= is now classify.density.epochs= (the old name still works)",
    ]
    cfg = OmegaConf.create(result.stdout).classify
    assert cfg.density_classifier == "none" and cfg.autoencoder.hidden == 8 and cfg.density.epochs == 2
    assert "members" not in cfg and "model" not in cfg and "member" not in cfg
    train = run_sla("train", "--cfg", "job", "preset=smoke", "eval.test_digits=7")
    assert train.returncode == 0 and OmegaConf.create(train.stdout).metrics.test_digits == 7
