"""The run: block (conf/common.yaml): every how-to-run key in one place, each command with only the
run.* keys it reads, and the old spellings (out=, device=, data.root=, train.resume=...) still working
with one note each."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from helpers.stages import compose
from sla_cli.commands import BY_NAME, RENAMED_KEYS, RUN_KEYS, STAGE_RUN_KEYS
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import renamed_overrides
from sla_cli.pipeline import cli as pipeline_cli

NEEDS = {"train": ["dataset_dir=/in"], "eval oneshot": ["model_dir=/in"], "eval concept": ["model_dir=/in"]}
# a value for each old spelling, different from every default
OLD = {
    "out": "/tmp/sla-run-block",
    "overwrite": "true",
    "device": "cpu",
    "threads": "3",
    "precision": "fp32",
    "progress_every": "7",
    "logger": "none",
    "data.root": "/elsewhere",
    "data.download": "true",
    "resume": "false",
    "stop_after": "2",
    "keep_checkpoints": "4",
    "checkpoint_every": "9",
    "log_every": "11",
}
COMMANDS = ["generate-cubes", "train", "classify", "density", "eval oneshot", "eval concept"]


def _old_overrides(command: str) -> list[str]:
    keys = [*RUN_KEYS, *(f"{command}.{leaf}" for leaf in STAGE_RUN_KEYS.get(command, ()))]
    return [f"{k}={OLD[k.rsplit('.', 1)[-1] if k.startswith(command + '.') else k]}" for k in keys]


@pytest.mark.parametrize("command", COMMANDS)
def test_old_spellings_give_one_note_each_and_the_same_config(command, capsys):
    cmd = BY_NAME[command]
    old = _old_overrides(command)
    new = renamed_overrides(cmd, old)
    notes = capsys.readouterr().err.strip().splitlines()
    assert len(notes) == len(old)
    for arg, renamed, note in zip(old, new, notes, strict=True):
        key, value = arg.split("=", 1)
        assert renamed == f"{RENAMED_KEYS[command][key]}={value}" and renamed.startswith("run.")
        assert note == f"sla {command}: note: {key}= is now {renamed.split('=')[0]}= (the old name still works)"
    spelt_new = [
        f"run.{'data_root' if k == 'data.root' else 'download' if k == 'data.download' else k.rsplit('.', 1)[-1]}={v}"
        for k, v in (a.split("=", 1) for a in old)
    ]
    assert new == spelt_new
    a = compose(command, "preset=smoke", *NEEDS.get(command, []), *new)
    b = compose(command, "preset=smoke", *NEEDS.get(command, []), *spelt_new)
    assert OmegaConf.to_container(a, resolve=True) == OmegaConf.to_container(b, resolve=True)
    assert a.run.threads == 3 and a.run.data_root == "/elsewhere" and a.run.out == OLD["out"]
    assert "out" not in a and "device" not in a and "root" not in (a.get("data") or {})


def test_a_command_has_only_the_run_keys_it_reads():
    """Checkpoint cadence is train's; resume and stop_after are the checkpointing stages'; classify's
    resume is auto or false (it reads back finished seeds, nothing to insist on)."""
    assert set(compose("train", "preset=smoke", "dataset_dir=/in").run) >= {"checkpoint_every", "log_every", "resume"}
    assert {"resume", "stop_after", "keep_checkpoints"} <= set(compose("density", "preset=smoke").run)
    assert "checkpoint_every" not in compose("density", "preset=smoke").run
    for command in ("generate-cubes", "eval oneshot", "eval concept"):
        run = compose(command, "preset=smoke", *NEEDS.get(command, [])).run
        assert not {"resume", "stop_after", "keep_checkpoints", "checkpoint_every", "log_every"} & set(run)
    with pytest.raises(ConfigError, match="unknown key run.checkpoint_every"):
        compose("density", "preset=smoke", "run.checkpoint_every=5")
    with pytest.raises(ConfigError, match="unknown key run.resume"):
        compose("generate-cubes", "preset=smoke", "run.resume=false")
    with pytest.raises(ConfigError, match="run.resume=True must be one of auto, False"):
        compose("classify", "preset=smoke", "run.resume=true")


def test_the_data_root_follows_sla_data_root(monkeypatch):
    monkeypatch.setenv("SLA_DATA_ROOT", "/from/env")
    assert compose("generate-cubes", "preset=smoke").run.data_root == "/from/env"


def test_the_pipeline_takes_out_as_run_out_with_a_note(capsys):
    assert pipeline_cli.parse(["preset=smoke", "out=/x/y", "run.device=cpu"])[1:3] == (
        pipeline_cli.Path("/x/y"),
        ["run.device=cpu"],
    )
    assert capsys.readouterr().err.strip() == "sla pipeline: note: out= is now run.out= (the old name still works)"
    assert pipeline_cli.parse(["run.out=/x/z"])[1] == pipeline_cli.Path("/x/z")
    assert capsys.readouterr().err == ""
