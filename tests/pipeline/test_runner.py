"""The pipeline's runner with stand-in stages: a failed stage does not stop the others, the stages
that need its folder are not run, and the report says why each is missing (no training)."""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder
from sla_cli.errors import ConfigError, DataError
from sla_cli.pipeline import runner
from sla_cli.pipeline.estimate import StepNeeds
from sla_cli.pipeline.plan import compose_all


def fake_stage(refuse: dict[str, Exception]):
    def run_job(stage, cfg, out_dir):
        name = out_dir.name
        if name in refuse:
            raise refuse[name]
        with runfolder.Run(out_dir, stage.kind, OmegaConf.create({"seed": 0, "stage": name})) as run:
            for file in stage.required:
                run.save_text(file, "{}" if file.endswith(".json") else "x")

    return run_job


@pytest.mark.slow
def test_a_failed_stage_stops_only_what_needs_it_and_the_report_says_why(tmp_path, monkeypatch, capsys):
    import sla_cli.hydra_app

    out = tmp_path / "out"
    plan = compose_all(out, "smoke", [], [])
    monkeypatch.setattr(
        sla_cli.hydra_app,
        "run_job",
        fake_stage({"model": DataError("the dataset is corrupt"), "classify": ConfigError("classify.x=1 is bad")}),
    )
    code = runner.run(plan, {p.name: StepNeeds() for p in plan.steps}, "sla pipeline test", report=True)
    assert code == 1
    log = json.loads((out / "pipeline.json").read_text())["stages"]
    assert log["dataset"]["outcome"] == "complete" and log["model_self_only"]["outcome"] == "complete"
    assert log["model"] == {"outcome": "failed", "reason": "the dataset is corrupt", "seconds": log["model"]["seconds"]}
    assert log["classify"]["outcome"] == "refused"
    assert log["oneshot"]["outcome"] == log["concept"]["outcome"] == "not run"
    assert log["concept"]["reason"] == "needs model/ (model_dir), which failed"
    from sla_cli.report.collect import collect

    stages = collect(out)
    assert stages["model"].reason.startswith("failed: the dataset is corrupt (sla pipeline)")
    assert stages["concept"].reason.startswith("not run: needs model/ (model_dir), which failed (sla pipeline)")
    assert stages["classify"].reason.startswith("refused: classify.x=1 is bad")
    report = (out / "report.md").read_text()  # the same reasons, markdown-escaped
    assert "failed: the dataset is corrupt" in report and "refused: classify.x=1 is bad" in report
    err = capsys.readouterr().err
    assert "sla pipeline: stage model failed: the dataset is corrupt" in err
    assert "not complete: model (failed), classify (refused), oneshot (not run), concept (not run)" in err
    assert not (out / ".sla-lock").exists()  # the pipeline's lock is released
