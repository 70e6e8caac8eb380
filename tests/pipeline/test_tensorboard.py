"""run.logger=tensorboard: a run's scalars and figures as TensorBoard events beside its folder (an
optional extra: these tests need the `tensorboard` package, and check the refusal without it)."""

from __future__ import annotations

import importlib.util

import pytest

HAVE_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


@pytest.mark.skipif(HAVE_TENSORBOARD, reason="tensorboard is installed")
def test_asking_for_tensorboard_without_it_is_one_line_before_any_work(tmp_path):
    from helpers.cli import assert_one_line_error, run_sla

    result = run_sla("train", "preset=smoke", "dataset_dir=x", "run.logger=tensorboard", f"run.out={tmp_path / 'm'}")
    assert_one_line_error(result, "run.logger=tensorboard needs the tensorboard package", "[tensorboard]", code=2)
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TENSORBOARD, reason="needs the tensorboard extra (pip install -e '.[tensorboard]')")
def test_train_writes_readable_event_files_next_to_its_run_folder(smoke_dataset, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from helpers.stages import run_stage
    from sla_cli import runfolder

    out = tmp_path / "runs" / "model"
    run_stage(
        "train",
        "preset=smoke",
        f"dataset_dir={smoke_dataset}",
        "train.steps=100",
        "run.log_every=25",
        "run.logger=tensorboard",
        out=out,
    )
    events = tmp_path / "runs" / "tb" / "model"
    assert list(events.glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(events), size_guidance={"images": 0, "scalars": 0}).Reload()
    losses = acc.Scalars("train/self_loss")
    assert [e.step for e in losses] == [25, 50, 75, 100]
    manifest = runfolder.read_manifest(out, "model")
    metrics = runfolder.read_json_object(out, manifest, "metrics.json")
    assert acc.Scalars("model/metrics/test_cross_mse")[0].value == pytest.approx(metrics["test_cross_mse"], rel=1e-6)
    assert "model/transfer" in acc.Tags()["images"]
    assert not any("tfevents" in name for name in manifest["sha256"])  # a view of the run, not part of it
