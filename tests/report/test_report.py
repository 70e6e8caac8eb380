"""`sla report` on synthetic run folders written with the stages' own schemas (manifest.json by
runfolder.begin/finish, the JSON each stage writes, tiny PNGs): no pipeline is run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from PIL import Image

from helpers.cli import assert_one_line_error, run_sla
from sla_cli import runfolder
from sla_cli.report.build import build
from sla_cli.report.figures import FIGURES
from sla_cli.report.provenance import git_commit

PROTOCOLS = ("paper", "same_instance", "new_instances")


def _png(path: Path) -> None:
    Image.new("L", (2, 2)).save(path)


def write_run(folder: Path, kind: str, config: dict, files: dict, **extra) -> None:
    """A complete run folder as a stage leaves it: config.yaml, the files, manifest.json last."""
    cfg = OmegaConf.create(
        {"preset": "smoke", "seed": 0, "run": {"device": "auto", "threads": 1, "overwrite": False}, **config}
    )
    with runfolder.Run(folder, kind, cfg) as run:
        for name, content in files.items():
            if name.endswith(".png"):
                _png(run.path(name))
            else:
                run.save_json(name, content)
        run.describe(**extra)


def classify_seed(recon: float, mlp: float) -> dict:
    """One seed's numbers, shaped as sla_cli/classify/evaluate.py returns them."""
    eps = {"0.1": 0.02, "0.2": 0.0}

    def attack(clean):
        return {
            "clean": clean,
            "fgsm": dict(eps),
            "pgd": dict(eps),
            "worst_case": dict(eps),
            "gradient": {"zero_gradient_fraction": 0.0, "median_gradient_norm": 3.0, "finite": True},
        }

    return {
        "ae_set": {
            "recon": {"accuracy": recon, "val_accuracy": 0.97},
            "full": {"accuracy": 0.9705, "val_accuracy": 0.97, "sigma_per_class": [0.1] * 10},
            "calibrated": {"accuracy": 0.982, "val_accuracy": 0.98, "fell_back_to_recon": False},
        },
        "mlp": {"accuracy": mlp, "val_accuracy": 0.98},
        "ood": {
            "n_in": 1000,
            "n_per_kind": 100,
            "ae_set": {s: {"noise": 1.0, "glyphs": 0.98} for s in ("recon", "full", "calibrated")},
            "mlp": {d: {"noise": 0.945, "glyphs": 0.947} for d in ("max_softmax", "max_logit", "energy")},
        },
        "adversarial": {
            "n": 50,
            "pgd_steps": 3,
            "eps": [0.1, 0.2],
            "loss": "margin",
            "mlp": attack(0.98),
            **{
                f"ae_set_{s}": {**attack(0.97), "transfer_from_mlp_pgd": dict(eps), "gradient_masking_suspected": False}
                for s in ("recon", "full", "calibrated")
            },
        },
        "train_seconds": {"ae_set": 10.0, "mlp": 5.0},
    }


def classify_results(per_seed: list[dict], seeds: list[int]) -> dict:
    first = per_seed[0]  # the report reads per_seed; the combined top level is here for the shape
    return {
        **first,
        "std": first,
        "per_seed": per_seed,
        "paper": {"ae_set": 0.986, "mlp": 0.984},
        "seeds": seeds,
        "device": "cpu",
        "preset": "smoke",
        "n_train": 3000,
        "n_val": 500,
        "n_test": 1000,
        "arch": {"ae_hidden": 64, "latent": 8, "mlp_hidden": 64},
        "weights_from": None,
    }


def protocol(n_classes: int, per_context: list[float]) -> dict:
    return {
        "n_classes": n_classes,
        "per_context_accuracy": per_context,
        "mean_accuracy": sum(per_context) / len(per_context),
        "min_accuracy": min(per_context),
        "contexts_all_correct": sum(a >= 1.0 for a in per_context),
    }


def oneshot_json(same: float = 1.21, different: float = 6.05, two_way_wrong: int = 0) -> dict:
    """Issue 11's oneshot.json; ``two_way_wrong`` contexts of the two-way test get one probe wrong."""
    two_way = [0.5] * two_way_wrong + [1.0] * (100 - two_way_wrong)
    return {
        "protocols": {
            "paper": protocol(2, two_way),
            "same_instance": protocol(10, [0.95] * 100),
            "new_instances": protocol(10, [0.9] * 100),
        },
        "distance": {
            "same_glyph_across_contexts": {"mean": same, "std": 0.3},
            "different_glyph_same_context": {"mean": different, "std": 1.1},
            "ratio": different / same,
        },
        "baselines": {
            "pixel_nn": {p: protocol(2 if p == "paper" else 10, [0.4] * 100) for p in PROTOCOLS},
            "no_cross": "skipped",
        },
        "glyphs": {"source": "builtin", "classes": ["check", "plus"]},
        "paper": {"two_way_contexts": 100, "same": 0.98, "different": 6.21},
    }


CONCEPT = {
    "spearman_latent_angle": -0.987,
    "angle_mae_deg": 2.4,
    "map_cosine_same_angle_different_digit": 0.962,
    "map_cosine_different_angle": 0.41,
    "backprojection": {"mse": 0.0123, "baseline_mse": 0.0456},
    "normalisation": {"rule": "z-score, softmax", "temperature": 0.7, "why": "a long reason"},
    "paper": {"maps": "Maps are almost identical"},
}
METRICS = {
    "steps": 400,
    "train_seconds": 35.3,
    "device": "cpu",
    "test_self_mse": 0.0089,
    "test_cross_mse": 0.0114,
    "mean_image_mse": 0.0406,
    "latent_distance_same_digit": 1.89,
    "latent_distance_different_digit": 7.41,
}


def make_root(
    root: Path,
    recon: tuple = (0.9789,),
    oneshot: dict | None = None,
    skip: tuple = (),
    classify: dict | None = None,
    concept: dict | None = None,
) -> Path:
    """RUN_ROOT with the five stage folders, as `make demo` leaves it (less the stages in ``skip``);
    ``oneshot``, ``classify``, ``concept``: the stage's JSON in place of the older shapes below."""
    stages = {
        "dataset": lambda f: write_run(
            f,
            "dataset",
            {"cubes": {"count": 8}},
            {"cubes.png": None, "contexts.png": None, "masks.png": None},
            n_contexts=100,
        ),
        "model": lambda f: write_run(
            f,
            "model",
            {"dataset": str(root / "dataset")},
            {"metrics.json": METRICS, "transfer.png": None, "curves.png": None},
            n_contexts=100,
        ),
        "classify": lambda f: write_run(
            f,
            "classify",
            {"classify": {"seeds": list(range(len(recon)))}},
            {
                "results.json": classify
                or classify_results([classify_seed(r, 0.9832) for r in recon], list(range(len(recon)))),
                "confusion.png": None,
                "loglik_hist.png": None,
            },
            device="cpu",
            seeds=list(range(len(recon))),
        ),
        "oneshot": lambda f: write_run(
            f,
            "oneshot",
            {"model": str(root / "model")},
            {
                "oneshot.json": oneshot or oneshot_json(),
                "decoded.png": None,
                "distances.png": None,
                "accuracy_maps.png": None,
                "accuracy_matrix.png": None,
            },
            device="cpu",
            seconds=2.1,
        ),
        "concept": lambda f: write_run(
            f,
            "concept",
            {"model": str(root / "model")},
            {
                "concept.json": concept or CONCEPT,
                "likelihood_maps.png": None,
                "texture_invariance.png": None,
                "concept_sweep.png": None,
                "backprojection.png": None,
            },
            device="cpu",
        ),
    }
    for name, write in stages.items():
        if name not in skip:
            write(root / name)
    return root


def report(root: Path) -> str:
    build(root, made_by="make demo PRESET=smoke")
    return (root / "report.md").read_text()


def row(text: str, start: str) -> list[str]:
    """The cells of the table row whose first cell starts with ``start``."""
    lines = [line for line in text.splitlines() if line.startswith(f"| {start}")]
    assert len(lines) == 1, (start, lines)
    return [c.strip() for c in lines[0].strip("|").split(" | ")]


def protocol_rows(text: str, start: str) -> dict[str, list[str]]:
    """The one-shot table of the protocol whose bold title starts with ``start``: method -> its other cells."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(f"**{start}"))
    out = {}
    for line in lines[first + 4 :]:  # title, blank, header, rule
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        out[cells[0]] = cells[1:]
    return out


def links(text: str) -> list[str]:
    return re.findall(r"\]\(([^)]+)\)", text)


@pytest.fixture(scope="session")
def complete_root(tmp_path_factory) -> Path:
    return make_root(tmp_path_factory.mktemp("complete"))


def test_complete_root_reports_every_stage_and_the_papers_numbers_beside_ours(complete_root):
    text = report(complete_root)
    assert "missing" not in text and "incomplete" not in text and "invalid" not in text
    # an old run (no intervals, no paired tests, no new baselines): every number still shown, the rest said so
    assert row(text, "Table 1: set of 10")[1:4] == [
        "98.6",
        "97.89 (one seed: no std)",
        "set − MLP of the set's width (points): not reported; "
        "set − MLP with about the set's parameter count (points): not reported",
    ]
    assert row(text, "Table 1: fully connected")[1:3] == ["98.4", "98.32 (one seed: no std)"]
    assert row(text, "Section 10: one-shot")[1:3] == [
        "all 100 contexts",
        "100 of 100 other contexts all correct; mean accuracy 100.0% (no interval)",
    ]
    distances = row(text, "Section 10: latent distances")
    assert distances[1].startswith("not comparable") and "0.98" not in distances[1] and "6.21" not in distances[1]
    assert distances[2] == "same glyph 1.21 (spread 0.30); different glyphs 6.05 (spread 1.10)"
    assert row(text, "Section 10: ratio")[1:3] == ["6.34", f"{6.05 / 1.21:.2f}"]
    assert "map cosine, same angle, two digits: 0.962" in text and "maps 20+ degrees apart: cosine 0.410" in text
    assert "Spearman(latent, true angle) -0.987 (no interval)" in text and "angle error 2.40 degrees" in text
    assert row(text, "Section 11, figures 15, 16")[2] == "back-projection MSE 0.0123 (no interval)"
    assert "the mean training cube image 0.0456 (no interval)" in row(text, "Section 11, figures 15, 16")[3]
    # beyond the paper: the N-way protocols beside their baselines, the skipped ablation said so
    new = protocol_rows(text, "N-way, other drawings")
    assert new["**shared latent space (ours)**"][:4] == ["90.0 (no interval)", "90.0", "0 of 100", "–"]
    assert new["pixel NN on the rendered frames"][:2] == ["40.0 (no interval)", "40.0"]
    assert new["the same set trained without cross steps"][0] == "skipped (not given to this run)"
    assert row(text, "set of 10 autoencoders, calibrated")[6] == "98.20"
    assert row(text, "normalisation")[1] == "rule=z-score, softmax; temperature=0.7"
    assert "`make demo PRESET=smoke`" in text and "- code commit: " in text


def test_every_paper_figure_is_linked_and_every_link_exists(complete_root):
    text = report(complete_root)
    found = links(text)
    for number in ("4", "5", "6", "7", "9", "10", "12", "14", "15", "16"):
        assert any(number in f.paper.split(", ") for f in FIGURES), number
    for f in FIGURES:
        assert f"{f.stage}/{f.file}" in found
    assert "oneshot/accuracy_matrix.png" in found  # a figure the map does not name is still shown
    for link in found:
        assert not Path(link).is_absolute() and (complete_root / link).is_file(), link


def test_numbers_come_from_the_json(tmp_path):
    text = report(
        make_root(tmp_path / "a", recon=(0.9123,), oneshot=oneshot_json(same=2.0, different=5.0, two_way_wrong=3))
    )
    assert row(text, "Table 1: set of 10")[2] == "91.23 (one seed: no std)"
    assert row(text, "Section 10: ratio")[2] == "2.50"
    assert row(text, "Section 10: one-shot")[2].startswith("97 of 100 other contexts all correct; mean accuracy 98.5%")


def test_one_shot_averaged_over_source_contexts_keeps_its_fraction(tmp_path):
    data = oneshot_json()
    data["protocols"]["paper"]["contexts_all_correct"] = 99.37  # source_context=all: a mean over sources
    text = report(make_root(tmp_path, oneshot=data))
    assert row(text, "Section 10: one-shot")[2].startswith("99.37 of 100 other contexts")


def test_several_seeds_give_mean_and_sample_std(tmp_path):
    text = report(make_root(tmp_path, recon=(0.97, 0.98, 0.99)))
    assert row(text, "Table 1: set of 10")[2] == "98.00 ± 1.00 (mean ± std over 3 seeds)"
    assert row(text, "classify/")[6] == "0, 1, 2"


def test_a_seed_sweep_folder_is_averaged_over_its_runs(tmp_path):
    root = make_root(tmp_path, skip=("oneshot",))
    for seed, same in ((0, 1.0), (1, 3.0)):  # what `-m seed=0,1 out=ROOT/oneshot` writes
        write_run(
            root / "oneshot" / str(seed),
            "oneshot",
            {"model": str(root / "model"), "seed": seed},
            {"oneshot.json": oneshot_json(same=same), "decoded.png": None, "distances.png": None},
        )
    text = report(root)
    assert row(text, "Section 10: latent distances")[2].startswith("same glyph 2.00 ± 1.41 (spread 0.30);")
    assert "oneshot/0/decoded.png" in links(text)


def test_a_missing_stage_says_so_and_exits_0(tmp_path):
    root = make_root(tmp_path, skip=("oneshot",))
    result = run_sla("report", str(root))
    assert result.returncode == 0, result.stderr
    text = (root / "report.md").read_text()
    assert row(text, "Section 10: one-shot")[2] == "missing"
    assert row(text, "Section 10: ratio")[2] == "missing"
    assert row(text, "oneshot/")[2] == "**missing**: no folder oneshot/"
    assert "*missing: oneshot/ is missing*" in text
    assert row(text, "Table 1: set of 10")[2] == "97.89 (one seed: no std)"  # the other stages are still reported
    assert all((root / link).is_file() for link in links(text))


def test_a_stage_without_manifest_is_incomplete_never_a_number(tmp_path):
    root = make_root(tmp_path)
    (root / "concept" / "manifest.json").unlink()  # its run died before the end
    text = report(root)
    assert row(text, "Section 11, figure 12")[2] == "incomplete"
    assert "0.962" not in text and "concept/likelihood_maps.png" not in links(text)


def test_a_changed_json_is_invalid_not_reported(tmp_path):
    root = make_root(tmp_path)
    path = root / "classify" / "results.json"
    data = json.loads(path.read_text())
    data["per_seed"][0]["ae_set"]["recon"]["accuracy"] = 0.999  # edited after the run: sha256 differs
    path.write_text(json.dumps(data))
    text = report(root)
    assert row(text, "Table 1: set of 10")[2] == "invalid"
    assert "99.90" not in text and "sha256" in row(text, "classify/")[2]


@pytest.mark.slow
def test_a_root_holding_no_run_is_a_one_line_error(tmp_path):
    assert_one_line_error(run_sla("report", str(tmp_path)), "holds no sla run", code=1)
    assert not (tmp_path / "report.md").exists()
    assert_one_line_error(run_sla("report", str(tmp_path / "nope")), "does not exist", code=1)
    assert_one_line_error(run_sla("report"), "RUN_ROOT", code=2)


def test_help_names_the_run_root():
    result = run_sla("report", "--help")
    assert result.returncode == 0 and "RUN_ROOT" in result.stdout


def test_wall_time_from_the_manifest_else_from_file_times(tmp_path):
    root = make_root(tmp_path)
    manifest = json.loads((root / "model" / "manifest.json").read_text())
    manifest["wall_seconds"] = 123.4
    runfolder.write_json(root / "model" / "manifest.json", manifest)
    for stage in ("classify", "dataset", "oneshot"):  # manifests without a wall time (older runs)
        old = json.loads((root / stage / "manifest.json").read_text())
        old.pop("wall_seconds", None)
        runfolder.write_json(root / stage / "manifest.json", old)
    created = json.loads((root / "classify" / "manifest.json").read_text())["created"]
    from datetime import datetime

    end = datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    os.utime(root / "classify" / "config.yaml", (end - 100, end - 100))  # started 100 s before it finished
    os.utime(root / "dataset" / "config.yaml", (end + 3600, end + 3600))  # a copied folder: times say nothing
    text = report(root)
    assert row(text, "model/")[4] == "123.4 s"
    assert row(text, "classify/")[4] == "≈ 100 s (file times)"
    assert row(text, "dataset/")[4] == "not recorded"
    assert row(text, "oneshot/")[4] == "2.1 s (the stage's timer)"
    assert row(text, "dataset/")[3] == "not recorded (run.device=auto)" and row(text, "classify/")[3] == "cpu"


def test_report_is_rewritten_atomically(complete_root):
    report(complete_root)
    (complete_root / "report.md").write_text("old")
    report(complete_root)
    assert (complete_root / "report.md").read_text().startswith("# sla")
    assert not [p for p in complete_root.iterdir() if ".tmp-" in p.name]


def test_git_commit_outside_a_checkout_is_unknown(tmp_path):
    assert git_commit(tmp_path) == "unknown"
