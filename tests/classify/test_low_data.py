"""The low-data sweep's table and figure from run folders shaped as `sla classify -m` leaves them."""

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder
from sla_cli.classify import low_data, paired
from sla_cli.errors import DataError

SCORINGS = ["recon", "full", "calibrated"]


def fake_run(folder, per_class, accuracies_by_seed: list[dict], n_test=200):
    """A complete classify run folder whose seeds score the given accuracies (models right on the first
    share of the test images), with its paired comparisons computed as the stage computes them."""
    seeds = list(range(len(accuracies_by_seed)))
    correct = [{m: np.arange(n_test) < round(a * n_test) for m, a in accs.items()} for accs in accuracies_by_seed]
    per_seed = [
        {
            "ae_set": {s: {"accuracy": a[s]} for s in SCORINGS},
            "mlp": {"accuracy": a["mlp"]},
            "mlp_matched": {"accuracy": a["mlp_matched"]},
        }
        for a in accuracies_by_seed
    ]
    results = {
        "train_per_class": per_class,
        "n_train": 10 * (per_class or 5500),
        "per_seed": per_seed,
        "paired": paired.compare(correct, seeds, SCORINGS, 200),
    }
    cfg = OmegaConf.create(
        {
            "preset": "smoke",
            "seed": 0,
            "run": {"device": "cpu", "threads": 1, "overwrite": False},
            "classify": {"train_per_class": per_class},
        }
    )
    with runfolder.Run(folder, "classify", cfg) as run:
        run.save_json("results.json", results)
        run.describe()


def accs(recon, mlp, matched=None):
    return {
        "recon": recon,
        "full": recon - 0.05,
        "calibrated": recon + 0.05,
        "mlp": mlp,
        "mlp_matched": mlp if matched is None else matched,
    }


def test_sweep_table_and_figure(tmp_path):
    fake_run(tmp_path / "0", 100, [accs(0.80, 0.70), accs(0.90, 0.70)])
    fake_run(tmp_path / "1", None, [accs(0.95, 0.98), accs(0.95, 0.98)])
    fake_run(tmp_path / "2", 10, [accs(0.5, 0.4)])
    fake_run(tmp_path / "3", 10, [accs(0.6, 0.4)])  # seeds swept as jobs: pooled with job 2
    (tmp_path / "4").mkdir()  # a job that died: no manifest, left out
    rows = low_data.summarize(low_data.read_sweep(tmp_path))
    assert [r["per_class"] for r in rows] == [10, 100, None]  # N increasing, "all" last
    ten, hundred, full = rows
    assert ten["n_seeds"] == 2 and ten["accuracy"]["recon"] == (pytest.approx(0.55), pytest.approx(0.1 / 2**0.5))
    assert hundred["accuracy"]["mlp"] == (pytest.approx(0.7), 0.0) and len(ten["paired"]) == 2
    text = low_data.markdown(rows, "sla classify -m x")
    assert "| 10 | 2 | 55.00 ± 7.07 |" in text and "| all (~5500) | 2 | 95.00 ± 0.00 |" in text
    assert "| 100 | recon | MLP, same width | +15.00 ± 7.07 | [+" in text  # 30 of 200 images more: above 0
    start = "| all (~5500) | recon | MLP, same width | -3.00 ± 0.00 |"
    line = next(t for t in text.splitlines() if t.startswith(start))
    low, high = (float(v) for v in line.split("[")[1].split("]")[0].split(","))
    assert low < -3 < high < 0 and line.endswith("| MLP better |")  # 6 of 200 images lost: an interval below 0
    fig = low_data.figure(rows)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 5 and len(ax.collections) == 5  # a band per line
    assert list(ax.get_lines()[0].get_xdata()) == [10, 100, 5500]


def test_a_folder_without_complete_runs_is_a_data_error(tmp_path):
    (tmp_path / "0").mkdir()
    with pytest.raises(DataError, match="no complete sla classify run"):
        low_data.read_sweep(tmp_path)
    with pytest.raises(DataError, match="not a folder"):
        low_data.read_sweep(tmp_path / "nowhere")


def test_a_results_json_that_is_not_numbers_is_one_data_error_naming_its_folder(tmp_path):
    fake_run(tmp_path / "0", 10, [accs(0.5, 0.4)])
    results = __import__("json").loads((tmp_path / "0" / "results.json").read_text())
    results["paired"]["comparisons"]["recon_vs_mlp"]["baseline"] = "<b>x</b>"
    from report.test_report_hostile import rehash

    rehash(tmp_path / "0", "results.json", results)
    with pytest.raises(DataError, match=r"/0/results.json: a paired comparison names no known model"):
        low_data.read_sweep(tmp_path)
