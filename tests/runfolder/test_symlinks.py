"""Issue 27, item 1: nothing a manifest names is read, written or removed through a symbolic link
that leaves the run folder (run.overwrite=true once deleted a file outside `out` that way)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder, verify
from sla_cli.errors import DataError


def cfg(overwrite: bool = False, **kw):
    return OmegaConf.create({"seed": 0, "run": {"overwrite": overwrite, "device": "cpu"}, "size": 4, **kw})


def complete_run(folder, **kw) -> dict:
    with runfolder.Run(folder, "dataset", cfg(**kw)) as run:
        run.save_npy("a.npy", np.arange(5))
    return json.loads((folder / runfolder.MANIFEST).read_text())


def test_overwrite_never_deletes_through_a_symlinked_subfolder(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    manifest = complete_run(out)
    elsewhere.mkdir()
    (elsewhere / "x").write_text("someone else's file")
    (out / "link").symlink_to(elsewhere)
    manifest["sha256"]["link/x"] = runfolder.sha256(elsewhere / "x")  # a hand-edited (or hostile) manifest
    (out / runfolder.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="names link/x, which leads outside .* through a symbolic link"):
        with runfolder.Run(out, "dataset", cfg(size=8, overwrite=True)) as run:
            run.save_json("b.json", {})
    assert (elsewhere / "x").read_text() == "someone else's file"
    assert runfolder.read_manifest(out, "dataset") == manifest  # refused before anything changed


def test_removal_never_follows_a_link_even_past_the_check(tmp_path):
    """The leftovers of a replaced run are removed without following links, whatever lies there by then."""
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    complete_run(out)
    elsewhere.mkdir()
    (elsewhere / "x").write_text("keep")
    with runfolder.Run(out, "dataset", cfg(size=8, overwrite=True)) as run:
        (out / "link").symlink_to(elsewhere)  # appears after the check (a race, or another process)
        run.replacing["sha256"]["link/x"] = "0" * 64
        run.save_json("b.json", {})
    assert (elsewhere / "x").read_text() == "keep"


@pytest.mark.parametrize("how", ["file", "folder"])
def test_readers_refuse_a_listed_file_behind_a_link_out_of_the_folder(tmp_path, capsys, how):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    with runfolder.Run(out, "dataset", cfg()) as run:
        run.save_npy("sub/a.npy", np.arange(5))
    elsewhere.mkdir()
    if how == "file":  # the same bytes, so only the link gives it away
        (elsewhere / "a.npy").write_bytes((out / "sub" / "a.npy").read_bytes())
        (out / "sub" / "a.npy").unlink()
        (out / "sub" / "a.npy").symlink_to(elsewhere / "a.npy")
    else:
        (out / "sub").rename(elsewhere / "sub")
        (out / "sub").symlink_to(elsewhere / "sub")
    manifest = runfolder.read_manifest(out, "dataset")
    with pytest.raises(DataError, match="leads outside .* through a symbolic link"):
        runfolder.verify_files(out, manifest)
    with pytest.raises(DataError, match="leads outside"):
        runfolder.verify_file(out, manifest, "sub/a.npy")
    assert verify.main([str(out)]) == 1
    assert "leads outside" in capsys.readouterr().err


def test_a_link_inside_the_folder_is_fine(tmp_path):
    out = tmp_path / "out"
    with runfolder.Run(out, "dataset", cfg()) as run:
        run.save_npy("a.npy", np.arange(5))
    (out / "b.npy").symlink_to(out / "a.npy")
    manifest = runfolder.read_manifest(out, "dataset")
    manifest["sha256"]["b.npy"] = manifest["sha256"]["a.npy"]
    runfolder.verify_files(out, manifest)


def test_no_write_goes_through_a_link_out_of_the_folder(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "config.yaml").write_text("# sla model run\n")
    (out / "checkpoints").symlink_to(elsewhere)
    with pytest.raises(DataError, match="checkpoints leads outside"):
        with runfolder.Run(out, "model", cfg()) as run:
            run.unlisted_path("checkpoints/step_00000001.pt")
    assert list(elsewhere.iterdir()) == []
