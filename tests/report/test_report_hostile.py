"""Issue 27 for `sla report`: text from run folders is escaped, numbers cells hold numbers, and a
hand-edited (rehashed) file, a folder in report.md's place or an unwritable root is one line."""

from __future__ import annotations

import json
import re

import pytest
from report.test_report import CONCEPT, make_root, report, row

from sla_cli import runfolder
from sla_cli.report import build as report_build
from sla_cli.report.cli import main
from sla_cli.report.markdown import code, escape, table

HOSTILE = "[click](../../../etc/passwd) <img src=x onerror=alert(1)> *bold* `tick` | pipe"


def rehash(folder, name: str, data) -> None:
    """Replace a listed file and update its sha256, as a careful hand-editor would."""
    (folder / name).write_text(json.dumps(data))
    manifest = json.loads((folder / runfolder.MANIFEST).read_text())
    manifest["sha256"][name] = runfolder.sha256(folder / name)
    (folder / runfolder.MANIFEST).write_text(json.dumps(manifest))


def edit_manifest(folder, **fields) -> None:
    manifest = json.loads((folder / runfolder.MANIFEST).read_text())
    manifest.update(fields)
    (folder / runfolder.MANIFEST).write_text(json.dumps(manifest))


def test_json_strings_are_escaped_never_links_or_html(tmp_path):
    root = make_root(tmp_path)
    rehash(root / "concept", "concept.json", {**CONCEPT, "normalisation": {"rule": HOSTILE, "temperature": 1}})
    edit_manifest(root / "classify", device=HOSTILE, created=HOSTILE)
    text = report(root)
    assert "](../../../etc/passwd)" not in text and "<img" not in text
    assert escape(HOSTILE) in row(text, "normalisation")[1]
    assert escape(HOSTILE) in text  # the device, as written, escaped
    for line in text.splitlines():
        if line.startswith("| classify/"):  # the pipe inside the device did not add a cell
            assert len(row(text, "classify/")) == 9


def test_a_string_in_a_numbers_cell_is_not_a_number(tmp_path):
    root = make_root(tmp_path)
    data = json.loads((root / "classify" / "results.json").read_text())
    data["per_seed"][0]["ae_set"]["recon"]["accuracy"] = "99.9 (trust me)"
    data["per_seed"][0]["mlp"]["accuracy"] = True
    rehash(root / "classify", "results.json", data)
    oneshot = json.loads((root / "oneshot" / "oneshot.json").read_text())
    oneshot["protocols"]["paper"]["per_context_accuracy"] = ["all", "of", "them"]
    oneshot["protocols"]["paper"].pop("contexts_all_correct")
    rehash(root / "oneshot", "oneshot.json", oneshot)
    text = report(root)
    assert row(text, "Table 1: set of 10")[2] == "not a number"
    assert row(text, "Table 1: fully connected")[2] == "not a number"
    assert "trust me" not in text
    assert row(text, "Section 10: one-shot")[2] == "not reported"


@pytest.mark.parametrize("data", [[1, 2], "a string", {"per_seed": [1, 2]}])
def test_a_rehashed_numbers_file_of_another_shape_makes_the_stage_invalid(tmp_path, data):
    root = make_root(tmp_path)
    rehash(root / "classify", "results.json", data)
    text = report(root)
    assert row(text, "Table 1: set of 10")[2] == "invalid"
    assert "**invalid**" in row(text, "classify/")[2]


def test_a_figure_linked_out_of_its_folder_is_not_shown(tmp_path):
    root = make_root(tmp_path)
    outside = tmp_path / "outside.png"
    (root / "model" / "curves.png").rename(outside)  # the same bytes: the hash alone would pass
    (root / "model" / "curves.png").symlink_to(outside)
    text = report(root)
    assert "model/curves.png" not in re.findall(r"\]\(([^)]+)\)", text)
    assert "leads outside" in text


def test_report_md_as_a_folder_or_an_unwritable_root_is_one_line(tmp_path, capsys, monkeypatch):
    root = make_root(tmp_path)
    (root / "report.md").mkdir()
    assert main([str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"sla report: error: {root / 'report.md'} is a folder; remove it to write the report"]
    (root / "report.md").rmdir()

    def read_only(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(report_build.runfolder, "write_text", read_only)  # root ignores chmod: simulate it
    assert main([str(root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write" in err[0] and "Permission denied" in err[0]


def test_markdown_helpers():
    assert escape("a_b [c](d) <e> & |") == "a\\_b \\[c\\]\\(d\\) &lt;e&gt; &amp; \\|"
    assert escape("two\nlines") == "two lines"
    assert table(["h"], [[escape("x|y")], ["p|q"]])[2:] == ["| x\\|y |", "| p\\|q |"]
    assert code("a`b") == "``a`b``" and code("`x") == "`` `x ``"


def test_runs_differing_only_in_how_to_run_keys_are_averaged_others_never(tmp_path):
    from report.test_report import oneshot_json, write_run

    root = make_root(tmp_path, skip=("oneshot",))
    how = [{"data": {"root": "/a"}, "precision": "fp32"}, {"data": {"root": "/b"}, "precision": "bf16"}]
    for seed, same in ((0, 1.0), (1, 3.0)):
        write_run(
            root / "oneshot" / str(seed),
            "oneshot",
            {"model": "m", "seed": seed, **how[seed]},
            {"oneshot.json": oneshot_json(same=same)},
        )
    assert row(report(root), "Section 10: latent distances")[2].startswith("same glyph 2.00 ± 1.41 (spread 0.30)")
    write_run(root / "oneshot" / "2", "oneshot", {"model": "another", "seed": 2}, {"oneshot.json": oneshot_json()})
    text = report(root)
    assert row(text, "Section 10: latent distances")[2] == "invalid"
    assert "differ in more than the seed" in row(text, "oneshot/")[2]
