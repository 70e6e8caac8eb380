"""`sla pipeline`'s plan: overrides routed by key, inputs wired from the steps before, folder states;
all composed and checked before anything is written (no MNIST, no training)."""

from __future__ import annotations

import pytest

from sla_cli.errors import ConfigError, DataError
from sla_cli.pipeline.plan import compose_all
from sla_cli.pipeline.registry import PIPELINE

BASELINES = [s.folder for s in PIPELINE if s.overrides and "variant" in s.overrides[0]]


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "out"
    plan = compose_all(
        out,
        "smoke",
        ["seed=3", "train.steps=7", "model_self_only:train.steps=9", "train.cross_steps=2", "classify.seeds=[4]"],
        [],
    )
    assert not out.exists()  # composing and checking writes nothing
    return plan


def _cfg(plan, folder):
    return next(p for p in plan.steps if p.name == folder).cfg


@pytest.mark.slow
def test_keys_go_to_every_stage_that_has_them_and_folder_keys_to_one(plan):
    assert {p.cfg.seed for p in plan.steps} == {3}
    assert _cfg(plan, "model").train.steps == 7 and _cfg(plan, "model_self_only").train.steps == 9
    assert list(_cfg(plan, "classify").classify.seeds) == [4]
    assert "train" not in _cfg(plan, "classify")


def test_a_steps_own_overrides_win_and_its_inputs_are_the_folders_before_it(plan):
    assert _cfg(plan, "model").train.cross_steps == 2
    assert _cfg(plan, "model_self_only").train.cross_steps == 0  # the ablation stays the ablation
    oneshot = _cfg(plan, "oneshot")
    assert oneshot.model_dir == str(plan.out / "model")
    assert oneshot.oneshot.ablation_model_dir == str(plan.out / "model_self_only")
    for step in PIPELINE:
        assert _cfg(plan, step.folder).run.out == str(plan.out / step.folder)


def test_baseline_steps_run_where_this_sla_has_their_option(plan):
    for folder in BASELINES:
        planned = next(p for p in plan.steps if p.name == folder)
        has_variant = "variant" in _cfg(plan, "model").train
        assert bool(planned.skipped) != has_variant, planned.skipped
        if has_variant:
            assert _cfg(plan, "oneshot").oneshot.baseline_model_dirs[folder.split("_", 1)[1]] == str(plan.out / folder)


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("train.stpes=5", "unknown key train.stpes"),
        ("+nosuch=1", "unknown key nosuch"),
        ("classify:train.steps=5", "unknown key train.steps: stage classify"),
        ("dataset_dir=/elsewhere", "dataset_dir is set by the pipeline"),
        ("model_dir=/elsewhere", "model_dir is set by the pipeline"),
        ("train.steps=0", "stage model (sla train): train.steps=0 must be >= 1"),
        ("seed", "expected key=value"),
    ],
)
def test_a_bad_override_is_one_line_naming_it(tmp_path, override, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        compose_all(tmp_path / "out", "smoke", [override], [])
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_skipping_a_stage_skips_the_stages_that_need_it(tmp_path):
    plan = compose_all(tmp_path / "out", "smoke", [], ["model"])
    skipped = {p.name: p.skipped for p in plan.steps if p.skipped}
    assert skipped["model"] == "pipeline.skip"
    assert skipped["oneshot"].startswith("needs model/") and skipped["concept"].startswith("needs model/")
    assert "model_self_only" not in skipped and "classify" not in skipped
    with pytest.raises(ConfigError, match="pipeline.skip names nosuch"):
        compose_all(tmp_path / "out", "smoke", [], ["nosuch"])


@pytest.mark.slow
def test_a_folder_holding_another_run_is_refused_naming_the_keys_that_differ(tmp_path):
    from sla_cli import runfolder

    out = tmp_path / "out"
    plan = compose_all(out, "smoke", [], [])
    cfg = _cfg(plan, "dataset").copy()
    cfg.digits.train = 123
    with runfolder.Run(out / "dataset", "dataset", cfg) as run:
        run.save_text("train_images.npy", "x")
    with pytest.raises(DataError, match=r"different dataset run \(digits.train: 123 -> 300\)"):
        compose_all(out, "smoke", [], [])
    plan = compose_all(out, "smoke", ["digits.train=123"], [])
    assert [p.state for p in plan.steps][:2] == ["done", "to run"]


@pytest.mark.slow
def test_an_interrupted_train_is_planned_as_a_resume(tmp_path):
    out = tmp_path / "out"
    (out / "model" / "checkpoints").mkdir(parents=True)
    (out / "model" / "checkpoints" / "step_00000200.pt").write_bytes(b"")
    plan = compose_all(out, "smoke", [], [])
    model = next(p for p in plan.steps if p.name == "model")
    assert model.state == "resume" and "step 200" in model.note


def test_a_finished_train_run_is_done_though_it_records_less_than_its_config(tmp_path):
    """train records its config less the keys its variant does not read (train.variant for a set):
    the plan compares like with like, so a finished model is skipped, not refused as another run."""
    from sla_cli import runfolder
    from sla_cli.pipeline.registry import MODEL_FILES
    from sla_cli.train.resume import identity_cfg

    out = tmp_path / "out"
    plan = compose_all(out, "smoke", [], [])
    model = next(p for p in plan.steps if p.name == "model")
    assert "variant" not in identity_cfg(model.cfg).train  # what makes the two configs differ
    with runfolder.Run(out / "model", "model", identity_cfg(model.cfg)) as run:
        run.save_text(MODEL_FILES.model, "x")
    plan = compose_all(out, "smoke", [], [])
    assert next(p for p in plan.steps if p.name == "model").state == "done"


def test_each_steps_config_is_the_one_hydra_composes_for_its_whole_command_line(plan):
    """The plan applies value overrides to one compose per stage: the result must be Hydra's own."""
    from omegaconf import OmegaConf

    from sla_cli.hydra_app import compose_config
    from sla_cli.pipeline.plan import route

    overrides = [
        "seed=3",
        "train.steps=7",
        "model_self_only:train.steps=9",
        "train.cross_steps=2",
        "classify.seeds=[4]",
    ]
    base = {p.stage.name: compose_config(p.stage, ["preset=smoke"], check_values=False) for p in plan.steps}
    routed = route(overrides, base)
    for p in plan.steps:
        job = [
            "preset=smoke",
            *routed[p.name],
            *p.step.overrides,
            *[f"{k}={plan.out / f}" for k, f in p.step.inputs.items()],
            f"run.out={plan.out / p.name}",
        ]
        hydra = compose_config(p.stage, job, check_values=False)
        assert OmegaConf.to_yaml(p.cfg) == OmegaConf.to_yaml(hydra), p.name
        assert OmegaConf.is_struct(p.cfg) and OmegaConf.is_struct(hydra)


@pytest.mark.parametrize("override", ["train.steps=7", "run.device=cpu", "model_dir=/x", "classify.seeds=[1,2]"])
def test_a_value_override_is_applied_without_composing_again(override):
    from sla_cli.hydra_app import compose_config
    from sla_cli.pipeline.plan import _with_values
    from sla_cli.pipeline.registry import BY_NAME

    head = override.split("=")[0].split(".")[0]
    stage = {"model_dir": "eval oneshot", "classify": "classify"}.get(head, "train")
    base = compose_config(BY_NAME[stage], ["preset=smoke"], check_values=False)
    assert _with_values(base, [override]) is not None


@pytest.mark.parametrize(
    "override",
    ["preset=demo", "+train.nosuch=1", "~train.lr", "train=smoke", "seed=1,2", "hydra/launcher=local", "nosuch=1"],
)
def test_anything_but_a_value_is_left_to_hydra(override):
    from sla_cli.hydra_app import compose_config
    from sla_cli.pipeline.plan import _with_values
    from sla_cli.pipeline.registry import BY_NAME

    base = compose_config(BY_NAME["train"], ["preset=smoke"], check_values=False)
    assert _with_values(base, ["seed=1", override]) is None


def test_old_spellings_reach_the_stages_that_read_them_with_one_note_each(tmp_path, capsys):
    """classify.members=made and train's eval.* (renamed, commands.py RENAMED_KEYS) work through the
    pipeline as through `sla <command>`; model= never becomes oneshot's model_dir (an input)."""
    plan = compose_all(tmp_path / "out", "smoke", ["classify.members=made", "eval.test_digits=5"], [])
    assert _cfg(plan, "classify").classify.density_classifier == "made"
    assert _cfg(plan, "model").metrics.test_digits == 5 and _cfg(plan, "model_self_only").metrics.test_digits == 5
    notes = capsys.readouterr().err.strip().splitlines()
    assert notes == [
        "sla classify: note: classify.members= is now classify.density_classifier= (the old name still works)",
        "sla train: note: eval.test_digits= is now metrics.test_digits= (the old name still works)",
    ]
    with pytest.raises(ConfigError):
        compose_all(tmp_path / "out", "smoke", ["model=/elsewhere"], [])


def test_old_spellings_of_run_keys_reach_every_stage_with_one_note_each(tmp_path, capsys):
    """device=, data.root= (every stage's) and train.resume= (the train steps') are run.* through the
    pipeline, with one note per old key; out= stays the pipeline's own (refused as a stage's)."""
    plan = compose_all(tmp_path / "out", "smoke", ["device=cpu", "data.root=/d", "train.resume=false"], [])
    assert all(p.cfg.run.device == "cpu" and p.cfg.run.data_root == "/d" for p in plan.steps)
    assert _cfg(plan, "model").run.resume is False and _cfg(plan, "model_self_only").run.resume is False
    assert _cfg(plan, "classify").run.resume == "auto"  # train.resume is train's, not classify's
    assert capsys.readouterr().err.strip().splitlines() == [
        "sla generate-cubes: note: device= is now run.device= (the old name still works)",
        "sla generate-cubes: note: data.root= is now run.data_root= (the old name still works)",
        "sla train: note: train.resume= is now run.resume= (the old name still works)",
    ]
    for out in ("out=/x", "run.out=/x", "model:run.out=/x"):
        with pytest.raises(ConfigError, match="is set by the pipeline"):
            compose_all(tmp_path / "out", "smoke", [out], [])
