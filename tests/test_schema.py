"""Typed configs (sla_cli/schema/): types and ranges in one place, the values in the YAML, and the
run identities unchanged by the typing."""

from __future__ import annotations

import copy
import dataclasses
import shutil
import typing
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from helpers import identities, old_checks
from helpers.cli import assert_one_line_error, run_sla
from sla_cli import hydra_app, schema
from sla_cli.commands import BY_NAME
from sla_cli.density import base, settings
from sla_cli.errors import ConfigError
from sla_cli.hydra_app import check_config, compose_config
from sla_cli.schema import fields, validate

CONF = Path(__file__).resolve().parents[1] / "conf"

# identities.table() before the configs were typed (tests/helpers/identities.py prints it): each
# case's run identity and a hash of its whole resolved config. A change here is a changed run. (The
# whole-config hashes of classify and train were pinned again after the key renames of commands.py's
# RENAMED_KEYS, which rename keys and change no value; the identities stayed as they were. All of them
# again when the how-to-run keys moved into run: (out, device..., data.root -> run.data_root, train.resume
# -> run.resume...): the recorded config is spelt differently and leaves out classify's run.resume as
# train's and density's; the identities, the config less run:, stayed as they were.)
PINNED = {
    "generate-cubes preset=smoke": ("69cce33965e50c72", "7a98994b943b20df"),
    "generate-cubes preset=demo": ("3b9d43711a2b01ec", "7bdfa87ad59587c4"),
    "generate-cubes preset=paper": ("c806ef10bf6c50f0", "84abddf834674831"),
    "train preset=smoke": ("6ae20c9319d51775", "b288f8d59c913362"),
    "train preset=smoke train.variant=shared_ae": ("b00339cdae8fefdb", "c3241178f1ca9d98"),
    "train preset=smoke train.variant=contrastive": ("86bdc0b65e24fdc1", "d5c574883c8eec90"),
    "train preset=demo": ("4517924cfabc3c78", "ded44e25677261ce"),
    "train preset=demo train.variant=shared_ae": ("86fc1c5bb4b21681", "7d848fbd5a3924c0"),
    "train preset=demo train.variant=contrastive": ("c5bcbb4e0ea428c6", "1064746755fb58bc"),
    "train preset=paper": ("84f10179b3d4a2c3", "9817d84f99d267c5"),
    "train preset=paper train.variant=shared_ae": ("6f0fa0d055826fbd", "502bbff1c9076e36"),
    "train preset=paper train.variant=contrastive": ("a6fc46ecba9a15a8", "c3346bf8c5572647"),
    "eval oneshot preset=smoke": ("12e9307d4164efb8", "f13a92064dbf495f"),
    "eval oneshot preset=demo": ("eaedefd0d40d0ecb", "3b0e133bfee8939c"),
    "eval oneshot preset=paper": ("29defc465a19495c", "8347e6a0587f9f44"),
    "eval concept preset=smoke": ("aeb0223866ef59ec", "b6cb32456b5ffac5"),
    "eval concept preset=demo": ("f2932c30adb53d0d", "3848389b133488c8"),
    "eval concept preset=paper": ("807ce4f99c5ea584", "e874147562d5487d"),
    "classify preset=smoke": ("087695eccfd477a2", "64993326222d152a"),
    "classify preset=smoke classify.density_classifier=made": ("4fdfbeb7b66d9c8d", "85f05dc0d631c756"),
    "classify preset=smoke classify.density_classifier=vae": ("f9ae88f36e781278", "8ab6f46fe17ffd73"),
    "classify preset=smoke classify.density_classifier=dae": ("8623abaae736125f", "638002b2ef28d36e"),
    "classify preset=demo": ("f8cced52e23db239", "bc444840372577cc"),
    "classify preset=demo classify.density_classifier=made": ("7efd13f5ac8089b9", "21fba826913f7d0f"),
    "classify preset=demo classify.density_classifier=vae": ("8dd77f25d3ecafc0", "6680988aae2d9097"),
    "classify preset=demo classify.density_classifier=dae": ("56975143abe7cc1b", "69c581d4f6d8c13f"),
    "classify preset=paper": ("a494d13094e0653b", "ddbc8cbdb4f7a5e5"),
    "classify preset=paper classify.density_classifier=made": ("bc283bca5322e692", "48656a5de921c4f0"),
    "classify preset=paper classify.density_classifier=vae": ("c9bad5757a350371", "0f8e9196437c6687"),
    "classify preset=paper classify.density_classifier=dae": ("f36db280c702c935", "1bf63ca1b57baa58"),
    "density preset=smoke": ("4f85dff81159bb7a", "9a7fe509e860ba7d"),
    "density preset=smoke density.model=vae": ("2060685d2fff062d", "403f51269ef12a06"),
    "density preset=smoke density.model=dae": ("e53e16e77ad9ee87", "b61f51ab072d3bb3"),
    "density preset=demo": ("e554e81255b473ec", "85cd8f19ddd3814d"),
    "density preset=demo density.model=vae": ("10b0c85ffe357b67", "380c360a243ca3da"),
    "density preset=demo density.model=dae": ("12efa5e13d24a92e", "1946b757cc46ba5f"),
    "density preset=paper": ("a6ff0d1674bd15d8", "97315a3dc5ed3c9b"),
    "density preset=paper density.model=vae": ("ae4589c11f221493", "e80de3db2723e586"),
    "density preset=paper density.model=dae": ("212f0a474b5d3ef1", "b93a8f8fc079c995"),
    "density preset=hour": ("e6ae69024e09f8ea", "94f64b50f1600f1c"),
    "density preset=hour density.model=vae": ("4a3e73fa323e9a73", "907f7e16ae1dbbcd"),
    "density preset=hour density.model=dae": ("cc2ceeded66c328a", "aaa62ae9244f2214"),
}


@pytest.mark.parametrize("case", identities.cases(), ids=lambda c: identities.case_name(*c))
def test_identities_unchanged(case, monkeypatch):
    monkeypatch.setenv("SLA_DATA_ROOT", "data")
    assert identities.hashes(*case) == PINNED[identities.case_name(*case)]


# -- the validator says what the hand-written checks said ---------------------------------------------
VALUES = (0, 1, 5, -1, 11, 0.0, 1e-3, 89.5, 200, True, False, None, "a", "auto", [1])
CHECKS = [  # (the old helper and its arguments, the schema field's hint and metadata)
    ((old_checks.check_int, {}), (int, fields.integer)),
    ((old_checks.check_int, {"low": 1}), (int, lambda: fields.at_least(1))),
    ((old_checks.check_int, {"low": 0, "high": 10}), (int, lambda: fields.integer(0, 10))),
    ((old_checks.check_int, {"high": 10}), (int, lambda: fields.integer(high=10))),
    ((old_checks.check_float, {"low": 0, "low_open": True}), (Any, lambda: fields.number(0, low_open=True))),
    ((old_checks.check_float, {"low": 1, "high": 89}), (Any, lambda: fields.number(1, 89))),
    ((old_checks.check_float, {"high": 1.0}), (Any, lambda: fields.number(high=1.0))),
    ((old_checks.check_choice, {"choices": ("a", "b")}), (str, lambda: fields.one_of("a", "b"))),
    ((old_checks.check_choice, {"choices": ("auto", False)}), (Any, lambda: fields.one_of("auto", False))),
    ((old_checks.check_bool, {}), (bool, fields.flag)),
]


def _message(call) -> str | None:
    try:
        call()
    except ConfigError as e:
        return str(e)
    return None


@pytest.mark.parametrize("old, new", CHECKS, ids=lambda c: getattr(c[0], "__name__", str(c[0])))
def test_the_validator_says_what_the_old_helpers_said(old, new):
    helper, kwargs = old
    hint, make = new
    meta = make().metadata
    for v in VALUES:
        cfg = OmegaConf.create({"sec": {"key": v}})
        before = _message(lambda c=cfg: helper(c, "sec.key", **kwargs))
        after = _message(lambda c=cfg: validate.check("sec.key", OmegaConf.select(c, "sec.key"), hint, meta))
        assert after == before, (v, before, after)


# -- ranges and types, on composed configs ------------------------------------------------------------
REQUIRED = {"train": ["dataset_dir=/in"], "eval oneshot": ["model_dir=/in"], "eval concept": ["model_dir=/in"]}


def _ranged_fields(schema: type, prefix: str = ""):
    """(dotted key, a value just outside its range, the message's start) for every bounded field."""
    hints = typing.get_type_hints(schema)
    for f in dataclasses.fields(schema):
        key, meta = f"{prefix}{f.name}", f.metadata
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _ranged_fields(hints[f.name], f"{key}.")
        elif meta.get("kind") == "int" and meta.get("low") is not None:
            yield key, meta["low"] - 1, f"{key}={meta['low'] - 1} must be "
        elif meta.get("kind") == "number" and meta.get("low") is not None:
            bad = meta["low"] if meta.get("low_open") else meta["low"] - 1
            yield key, bad, f"{key}={bad} must be {'>' if meta.get('low_open') else '>='} {meta['low']}"


@pytest.mark.parametrize("command", sorted(identities.CASES))
def test_every_range_is_checked_naming_its_key(command):
    cmd = BY_NAME[command]
    base = compose_config(cmd, ["preset=smoke", *REQUIRED.get(command, [])])
    checked = 0
    for key, bad, message in _ranged_fields(schema.schema_of(cmd.config_name)):
        cfg = copy.deepcopy(base)
        OmegaConf.update(cfg, key, bad)
        with pytest.raises(ConfigError) as e:
            check_config(cmd, cfg)
        assert str(e.value).startswith(message), (key, str(e.value))
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize(
    "command, override, message",
    [
        ("train", "train.steps=abc", "train.steps='abc' must be an integer"),
        ("train", "train.steps=null", "train.steps=None must be an integer"),
        ("train", "model.tied=maybe", "model.tied='maybe' must be true or false"),
        ("classify", "classify.seeds=[a]", "classify.seeds[0]='a' must be an integer"),
        ("classify", "classify.tune.epochs=3", "classify.tune.epochs=3 must be a list"),
        ("generate-cubes", "camera.fov_deg=wide", "camera.fov_deg='wide' must be a number"),
        ("eval oneshot", "oneshot.source_context=first", "must be a context index >= 0 or all"),
    ],
)
def test_a_bad_type_on_the_command_line_is_one_line_naming_the_key(command, override, message):
    with pytest.raises(ConfigError) as e:
        compose_config(BY_NAME[command], ["preset=smoke", *REQUIRED.get(command, []), override])
    assert message in str(e.value) and "\n" not in str(e.value)


def test_numbers_stay_as_written(monkeypatch):
    """An integer given to a number field stays an integer: a float type would make it 1.0 and change
    the run's identity (the hashes pinned above)."""
    cfg = compose_config(BY_NAME["train"], ["preset=smoke", "dataset_dir=/in", "train.lr=1", "train.temperature=2"])
    assert type(cfg.train.lr) is int and type(cfg.train.temperature) is int
    assert type(compose_config(BY_NAME["generate-cubes"], []).camera.fov_deg) is int  # 28 in the YAML


@pytest.fixture
def conf_copy(tmp_path, monkeypatch):
    """A copy of conf/ that compose_config reads instead (to put bad values in its files)."""
    conf = tmp_path / "conf"
    shutil.copytree(hydra_app.CONF_DIR, conf)
    monkeypatch.setattr(hydra_app, "CONF_DIR", conf)
    return conf


def test_a_bad_type_in_a_yaml_file_is_one_line_naming_the_key(conf_copy):
    (conf_copy / "train" / "smoke.yaml").write_text("train:\n  steps: abc\n")
    with pytest.raises(ConfigError) as e:
        compose_config(BY_NAME["train"], ["preset=smoke", "dataset_dir=/in"])
    assert str(e.value) == "train.steps='abc' must be an integer"


def test_a_yaml_key_the_schema_lacks_is_refused(conf_copy):
    (conf_copy / "train" / "smoke.yaml").write_text("train:\n  stepz: 3\n")
    with pytest.raises(ConfigError, match="stepz") as e:
        compose_config(BY_NAME["train"], ["preset=smoke", "dataset_dir=/in"])
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("override", ["+train.extra=1", "+extra=1", "+model.extra=true"])
def test_a_key_added_on_the_command_line_is_refused(override):
    with pytest.raises(ConfigError, match="unknown key"):
        compose_config(BY_NAME["train"], ["preset=smoke", "dataset_dir=/in", override])


# -- the YAML and the schemas hold the same keys -----------------------------------------------------
def _schema_leaves(schema: type, prefix: str = "") -> set[str]:
    hints = typing.get_type_hints(schema)
    out: set[str] = set()
    for f in dataclasses.fields(schema):
        hint = hints[f.name]
        out |= _schema_leaves(hint, f"{prefix}{f.name}.") if dataclasses.is_dataclass(hint) else {prefix + f.name}
    return out


def _flat(node: dict, prefix: str = "") -> set[str]:
    """Dotted keys of the leaves; a list (an empty one too) is a leaf."""
    out: set[str] = set()
    for k, v in node.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) and v else {prefix + str(k)}
    return out


def _yaml_leaves(command: str) -> set[str]:
    keys: set[str] = set()
    for path in (CONF / "common.yaml", CONF / f"{command}.yaml", *sorted((CONF / command).glob("*.yaml"))):
        data = OmegaConf.to_container(OmegaConf.load(path), resolve=False) or {}
        data.pop("defaults", None)
        data.pop("hydra", None)
        keys |= _flat(data)
    return keys | {"preset"}  # conf/preset/<name>.yaml


@pytest.mark.parametrize("command", sorted(schema.SCHEMAS))
def test_every_yaml_key_has_a_schema_field_and_every_field_a_value(command):
    fields_ = _schema_leaves(schema.schema_of(command))
    in_yaml = _yaml_leaves(command)
    # a field typed Any may hold a block (oneshot.baseline_model_dirs) or one made elsewhere (classify.density)
    covered = {k for k in in_yaml if any(k == f or k.startswith(f + ".") for f in fields_)}
    assert in_yaml == covered, f"YAML keys without a schema field: {sorted(in_yaml - covered)}"
    given = {f for f in fields_ if any(k == f or k.startswith(f + ".") for k in in_yaml)}
    made_elsewhere = {"classify.density", *(f"density.{m}" for m in settings.model_files(CONF))}
    assert fields_ - given <= made_elsewhere, f"schema fields without a value: {sorted(fields_ - given)}"


@pytest.mark.parametrize("name", sorted(settings.model_files(CONF)))
def test_every_density_model_settings_file_matches_its_schema(name):
    in_yaml = set(OmegaConf.to_container(OmegaConf.load(settings.model_files(CONF)[name])))
    assert in_yaml == {f.name for f in dataclasses.fields(base.get(name).settings)}


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv, message",
    [
        (("train", "preset=smoke", "train.steps=abc"), "sla train: error: train.steps='abc' must be an integer"),
        (("classify", "classify.seeds=[a]"), "sla classify: error: classify.seeds[0]='a' must be an integer"),
        (("density", "density.made.n_masks=0"), "density.made.n_masks=0 must be in 1..4096"),
    ],
)
def test_the_cli_says_a_bad_value_in_one_line_with_exit_2(argv, message):
    assert_one_line_error(run_sla(*argv), message, code=2)


def test_the_pipeline_keys_are_typed_too():
    from sla_cli.pipeline.cli import _pipeline_settings
    from sla_cli.schema.pipeline import Pipeline

    assert set(OmegaConf.load(CONF / "pipeline.yaml").pipeline) == {f.name for f in dataclasses.fields(Pipeline)}
    assert _pipeline_settings(["pipeline.skip=[classify]", "pipeline.dry_run=true"]).dry_run is True
    for override, message in (
        ("pipeline.confirm=maybe", "pipeline.confirm='maybe' must be true or false"),
        ("pipeline.skip=classify", "pipeline.skip='classify' must be a list of stage folders"),
    ):
        with pytest.raises(ConfigError, match=message):
            _pipeline_settings([override])
