"""bench/views_per_digit.py: the table pairs each k's two schedules, and k < 2 is refused."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "views_per_digit.py"
SPEC = importlib.util.spec_from_file_location("bench_views_per_digit", BENCH)
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _metrics(self_mse: float, cross_mse: float) -> dict:
    return {
        "test_self_mse": self_mse,
        "test_self_mse_covered": self_mse * 1.01,
        "test_cross_mse": cross_mse,
        "mean_image_mse": 0.04,
        "class_mean_image_mse": 0.03,
    }


def test_table_rows_compare_the_two_schedules_at_each_k():
    rows = [
        {"k": 2, "share": 0.02, "cross": _metrics(0.02, 0.03), "self": _metrics(0.025, 0.06)},
        {"k": 100, "share": 1.0, "cross": _metrics(0.008, 0.01), "self": _metrics(0.006, 0.08)},
    ]
    lines = bench.table(rows).splitlines()
    first = [cell.strip() for cell in lines[2].strip("|").split("|")]
    assert first[:5] == ["2", "0.020", "0.02000", "0.02500", "0.800"]
    assert first[-2:] == ["0.03000", "0.06000"]
    assert lines[3].split("|")[5].strip() == "1.333"
    assert "class-mean image 0.03000" in lines[-1]


def test_one_view_per_digit_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"n_contexts": 10}))
    done = subprocess.run(
        [sys.executable, str(BENCH), "--dataset-dir", str(tmp_path), "--out", str(tmp_path / "o"), "--ks", "1,C"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "must be >= 2" in done.stderr
    assert not (tmp_path / "o").exists()
