"""`sla report` shows the low-data sweep (issue 21) when RUN_ROOT holds one under low_data/: the tables
from the verified results.json files, the figure drawn anew from the same numbers, the sweep's command."""

from __future__ import annotations

import json

from classify.test_low_data import accs, fake_run
from report.test_report import make_root, report
from report.test_report_hostile import rehash

from sla_cli.report.low_data import FIGURE, FOLDER, TITLE

MULTIRUN = "hydra:\n  overrides:\n    task:\n    - preset=demo\n    - classify.train_per_class=10,null\n"


def sweep(root):
    fake_run(root / FOLDER / "0", 10, [accs(0.5, 0.4), accs(0.6, 0.4)])
    fake_run(root / FOLDER / "1", None, [accs(0.95, 0.98), accs(0.95, 0.98)])
    (root / FOLDER / "multirun.yaml").write_text(MULTIRUN)


def test_the_sweep_is_a_section_with_its_command_tables_and_a_fresh_figure(tmp_path):
    root = make_root(tmp_path / "root")
    assert TITLE not in report(root)  # no low_data/: no section
    sweep(root)
    text = report(root)
    assert TITLE in text
    assert "Made by: `sla classify -m preset=demo classify.train_per_class=10,null`" in text
    assert "| 10 | 2 | 55.00 ± 7.07 |" in text and "| all (~5500) | 2 | 95.00 ± 0.00 |" in text
    assert "#### Set minus MLP, paired on the test images" in text
    assert f"]({FOLDER}/{FIGURE})" in text and (root / FOLDER / FIGURE).read_bytes()[:4] == b"\x89PNG"


def test_a_tampered_or_foreign_sweep_is_one_line_and_the_report_still_builds(tmp_path):
    root = make_root(tmp_path / "root")
    sweep(root)
    (root / FOLDER / "multirun.yaml").write_text("hydra: [unclosed")
    assert "Made by: unknown" in report(root)
    results = json.loads((root / FOLDER / "0" / "results.json").read_text())
    results["per_seed"][0]["mlp"]["accuracy"] = "[link](../../etc/passwd)"
    rehash(root / FOLDER / "0", "results.json", results)
    text = report(root)
    line = next(t for t in text.splitlines() if t.startswith(f"*{FOLDER}/: not shown*"))
    assert "an accuracy is not a number" in line and "](" not in text.split(TITLE)[1].split("\n#")[0]
    (root / FOLDER / "0" / "results.json").write_text("{}")  # unhashed edit: the manifest's sha256 refuses it
    assert "sha256" in next(t for t in report(root).splitlines() if t.startswith(f"*{FOLDER}/: not shown*"))


def test_a_link_out_of_the_root_is_not_followed(tmp_path):
    root = make_root(tmp_path / "root")
    elsewhere = tmp_path / "elsewhere"
    sweep(elsewhere)
    (root / FOLDER).symlink_to(elsewhere / FOLDER)
    assert "a link out of the run root" in report(root)
    assert not (elsewhere / FOLDER / FIGURE).exists()
