"""bench/scale.py (the scale study of issue 22): its grid, its runner, and its dry run end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from bench import scale
from bench.flops import run_flops
from bench.scale_grid import DRY_RUN, STAGES, STUDY
from bench.scale_table import all_finite
from helpers.cli import REPO
from helpers.stages import compose
from helpers.tiny_dataset import SINGLE_THREAD_ENV

MEASURES = {
    "self_mse",
    "cross_mse",
    "cross_over_mean_floor",
    "cross_over_class_floor",
    "latent_ratio_digits",
    *[f"{g}.glyph_distance_ratio" for g in ("builtin", "fonts")],
    *[
        f"{g}.{p}.{m}"
        for g in ("builtin", "fonts")
        for p in ("paper", "same_instance", "new_instances")
        for m in ("ours", "oracle", "pixel_nn")
    ],
    "concept.spearman",
    "concept.angle_mae_deg",
    "concept.maps_pca_angle_mae_deg",
    "concept.pixels_ae_angle_mae_deg",
    "concept.unseen_texture_mae_deg",
    "concept.unseen_maps_pca_mae_deg",
    "concept.unseen_pixels_ae_mae_deg",
    "concept.unseen_over_trained",
    "concept.map_cosine_same_angle",
    "concept.map_cosine_far_angle",
}


def test_the_grid_is_the_issues():
    f32 = [p for p in STUDY.points if p.dataset == "f32"]
    assert {(p.hidden, p.steps) for p in f32} == {(h, s) for h in (128, 256, 512, 1024) for s in (2000, 8000)}
    seeds = {
        (p.hidden, p.steps): sorted(q.seed for q in f32 if (q.hidden, q.steps) == (p.hidden, p.steps)) for p in f32
    }
    assert all(v == ([0, 1] if h <= 256 else [0]) for (h, _), v in seeds.items())  # two seeds at the small end
    assert [p.name for p in STUDY.points if p.dataset != "f32"] == ["f48_h512_s2000_seed0"]
    assert STUDY.frames["f48"] == 48 and "render.size=48" in STUDY.datasets["f48"]
    for study in (STUDY, DRY_RUN):
        assert len({p.name for p in study.points}) == len(study.points)
        assert [study.flops(p) for p in study.by_flops()] == sorted(study.flops(p) for p in study.points)


def test_points_are_chosen_by_name_or_pattern_and_a_miss_is_one_line(capsys):
    assert [p.name for p in scale.select(STUDY, "f32_h128_s2000_*")] == ["f32_h128_s2000_seed0", "f32_h128_s2000_seed1"]
    assert len(scale.select(STUDY, "f48_*,f32_h1024_s8000_seed0")) == 2
    with pytest.raises(SystemExit) as stop:
        scale.select(STUDY, "f32_h4096_*")
    assert "matches no point" in str(stop.value) and "f32_h128_s2000_seed0" in str(stop.value)


def test_order_smallest_first_and_gpu_check_largest_first():
    ranked = STUDY.by_flops()
    assert scale.order(STUDY, STUDY.points, gpu_check=False, dry_run=False) == ranked
    assert scale.order(STUDY, STUDY.points, gpu_check=True, dry_run=False) == ranked[::-1]
    assert scale.order(DRY_RUN, DRY_RUN.points, gpu_check=True, dry_run=True) == DRY_RUN.by_flops()[:1]


@pytest.mark.slow
def test_runner_reports_failure_a_skipped_stage_and_stops_at_the_budget(tmp_path):
    marker = tmp_path / "manifest.json"
    runner = scale.Runner(None, dict(os.environ))
    runner.program = [sys.executable, "-c", "import sys; sys.exit(int(sys.argv[1]))"]
    assert runner.sla(["3"], tmp_path / "a.log", marker).startswith("failed (exit 3")
    assert runner.sla(["0"], tmp_path / "a.log", marker) == "done"  # nothing was there: it ran
    marker.write_text("{}")
    assert runner.sla(["0"], tmp_path / "a.log", marker) == "already complete"  # untouched by the stage

    runner = scale.Runner(scale.RESERVE_S + 2, dict(os.environ))
    runner.program = [sys.executable, "-c", "import time; time.sleep(60)"]
    start = time.monotonic()
    assert runner.sla([], tmp_path / "b.log", marker) == "stopped at the budget"
    assert time.monotonic() - start < 15 and runner.sla([], tmp_path / "b.log", marker) == "stopped at the budget"


def run_scale(*args: str, data_root) -> subprocess.CompletedProcess:
    env = {**os.environ, **SINGLE_THREAD_ENV, "SLA_DATA_ROOT": str(data_root)}
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "scale.py"), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=1800,
    )


def manifests(root) -> dict:
    return {p: p.stat().st_mtime_ns for p in root.glob("points/*/*/manifest.json")}


@pytest.mark.slow
def test_dry_run_end_to_end_resumes_and_skips_finished_points(mnist_root, tmp_path):
    root, smallest = tmp_path / "study", DRY_RUN.by_flops()[0].name
    # the gpu-check hook first: the smallest point only, and its points.json
    hook = run_scale(
        "--gpu-check", "--dry-run", "--device", "cpu", "--budget-s", 600, "--out", root, data_root=mnist_root
    )
    assert hook.returncode == 0, hook.stdout[-3000:] + hook.stderr[-3000:]
    points = json.loads((root / "points.json").read_text())
    assert [p["name"] for p in points] == [smallest] and set(points[0]["stages"].values()) == {"done"}

    done = run_scale("--dry-run", "--out", root, data_root=mnist_root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert all(f"{smallest} {stage}: already complete" in done.stdout for stage in STAGES)  # the hook's point
    table = json.loads((root / "scale.json").read_text())
    rows = {r["name"]: r for r in table["points"]}
    assert set(rows) == {p.name for p in DRY_RUN.points}
    shapes = compose("train", "preset=smoke", "dataset_dir=unused")
    for p in DRY_RUN.points:
        r = rows[p.name]
        assert r["complete"] and all_finite(r) and MEASURES <= set(r["measures"]), (p.name, r["stages"])
        frame = DRY_RUN.frames[p.dataset]
        assert r["training_flops"] == run_flops(
            100, frame * frame, p.hidden, shapes.model.latent, shapes.train.batch_size, p.steps
        )
        for stage in STAGES:  # the identity is the run folder's own
            manifest = json.loads((root / "points" / p.name / stage / "manifest.json").read_text())
            assert r["stages"][stage]["identity"] == manifest["identity"]
    assert rows["f24_h16_s40_seed0"]["measures"] != rows["f24_h16_s40_seed1"]["measures"]  # seeds differ
    text = (root / "scale.md").read_text()
    assert all(f"| {name} |" in text for name in rows) and f"Complete points: {len(rows)} of {len(rows)}." in text
    assert all(
        (root / "figures" / f).stat().st_size > 10_000
        for f in ("shared_latent.png", "latent_distance.png", "oneshot.png", "concept.png")
    )

    before = manifests(root)
    again = run_scale("--dry-run", "--out", root, "--points", smallest, data_root=mnist_root)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.stdout.count(": already complete") == 1 + len(STAGES) and ": done" not in again.stdout
    assert manifests(root) == before

    # a file changed after the run is caught by its manifest's sha256: that stage gives no numbers
    concept = root / "points" / smallest / "concept" / "concept.json"
    concept.write_text(concept.read_text().replace('"spearman_latent_angle"', '"spearman_latent_angle" ', 1))
    rebuilt = run_scale("--dry-run", "--out", root, "--table-only", data_root=mnist_root)
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    row = next(r for r in json.loads((root / "scale.json").read_text())["points"] if r["name"] == smallest)
    assert row["stages"]["concept"]["status"].startswith("unreadable") and not row["complete"]
    assert not any(k.startswith("concept.") for k in row["measures"]) and "cross_mse" in row["measures"]


def test_a_second_study_on_the_same_root_stops_at_once(tmp_path):
    from sla_cli.runfolder import FolderLock

    held = FolderLock(tmp_path).acquire()  # as a running study holds it
    try:
        with pytest.raises(SystemExit) as stop:
            scale.hold_the_study(tmp_path)
        assert "is in use by another sla run" in str(stop.value)
    finally:
        held.release()


def test_sigterm_reaches_the_running_stage_and_the_study_exits(tmp_path):
    """What stopping a background study does: the stage gets SIGTERM too (sla train keeps its checkpoint)."""
    pid_file = tmp_path / "stage.pid"
    stage_script = tmp_path / "stage.py"
    stage_script.write_text("import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    study_script = tmp_path / "study.py"
    study_script.write_text(
        "import os, sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[1])\nfrom bench import scale\n"
        "runner = scale.Runner(None, dict(os.environ))\nrunner.forward_signals()\n"
        "runner.program = [sys.executable, sys.argv[2]]\n"
        "runner.sla([sys.argv[3]], Path(sys.argv[4]), Path(sys.argv[5]))\n"
    )
    study = subprocess.Popen(
        [
            sys.executable,
            str(study_script),
            str(REPO),
            str(stage_script),
            str(pid_file),
            str(tmp_path / "a.log"),
            str(tmp_path / "manifest.json"),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        stage = int(pid_file.read_text())
        study.terminate()
        assert study.wait(timeout=15) == 143
    finally:
        if study.poll() is None:  # a hung study must not outlive the test
            study.kill()
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(stage, 0)  # the stage is gone with it
