"""Run folders: atomic writes, manifest last, refusal to overwrite another run, readers' checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder
from sla_cli.errors import DataError


def cfg(overwrite: bool = False, **kw):
    return OmegaConf.create({"seed": 0, "run": {"overwrite": overwrite, "device": "cpu"}, "size": 4, **kw})


def complete_run(folder, kind: str = "dataset", config=None, **arrays) -> dict:
    with runfolder.Run(folder, kind, config or cfg()) as run:
        for name, array in arrays.items():
            run.save_npy(f"{name}.npy", array)
        run.describe(n_contexts=3)
    return run.manifest


def test_manifest_lists_hashes_and_reader_accepts_it(tmp_path):
    complete_run(tmp_path, a=np.arange(5))
    manifest = runfolder.read_manifest(tmp_path, "dataset")
    assert manifest["n_contexts"] == 3 and manifest["sha256"]["a.npy"] == runfolder.sha256(tmp_path / "a.npy")
    assert runfolder.verify_file(tmp_path, manifest, "a.npy").exists()


def test_folder_without_manifest_is_refused_as_incomplete(tmp_path):
    with runfolder.Run(tmp_path, "dataset", cfg()) as run:
        run.save_npy("a.npy", np.arange(5))
        run.leave_incomplete()
    with pytest.raises(DataError, match="no manifest.json: it is incomplete"):
        runfolder.read_manifest(tmp_path, "dataset")


def test_reader_refuses_another_kind(tmp_path):
    complete_run(tmp_path, "model")
    with pytest.raises(DataError, match="holds an sla model run, not a dataset"):
        runfolder.read_manifest(tmp_path, "dataset")


def test_changed_file_fails_its_hash(tmp_path):
    complete_run(tmp_path, a=np.arange(5))
    runfolder.save_npy(tmp_path / "a.npy", np.arange(6))
    with pytest.raises(DataError, match="does not match its sha256"):
        runfolder.verify_file(tmp_path, runfolder.read_manifest(tmp_path, "dataset"), "a.npy")


def test_different_run_is_not_overwritten_unless_asked(tmp_path):
    complete_run(tmp_path, a=np.arange(5))
    before = (tmp_path / "manifest.json").read_text()
    with pytest.raises(DataError, match="already holds a different dataset"):
        complete_run(tmp_path, config=cfg(size=8), a=np.arange(8))
    assert (tmp_path / "manifest.json").read_text() == before
    complete_run(tmp_path, config=cfg(size=8, overwrite=True), a=np.arange(8))
    assert runfolder.read_manifest(tmp_path, "dataset")["config"]["size"] == 8


def test_same_complete_run_is_reported_not_redone(tmp_path):
    first = complete_run(tmp_path, a=np.arange(5))
    with runfolder.Run(tmp_path, "dataset", cfg(device="cuda")) as run:  # the device is not part of a run's identity
        assert run.complete and run.manifest["identity"] == first["identity"]


def test_foreign_files_are_protected(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(DataError, match="not empty and holds no sla dataset run"):
        complete_run(tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_failed_atomic_write_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "x.json"
    runfolder.write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with runfolder.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_corrupt_manifest_is_one_line_error(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DataError, match="unreadable or corrupt"):
        runfolder.read_manifest(tmp_path, "dataset")


def test_run_records_every_save_and_writes_the_manifest_last(tmp_path):
    from sla_cli.plotting import plt

    with runfolder.Run(tmp_path, "oneshot", cfg()) as run:
        assert not run.complete
        run.save_json("a.json", {"x": 1})
        run.save_npy("sub/b.npy", np.arange(3))
        run.save_text("c.md", "hi")
        run.save_torch("d.pt", {"w": np.arange(2).tolist()})
        run.save_figure("e.png", plt.figure())
        run.describe(n_contexts=7)
        assert not (tmp_path / runfolder.MANIFEST).exists()
    manifest = runfolder.read_manifest(tmp_path, "oneshot")
    assert sorted(manifest["sha256"]) == ["a.json", "c.md", "config.yaml", "d.pt", "e.png", "sub/b.npy"]
    assert manifest["n_contexts"] == 7
    for name in manifest["sha256"]:
        runfolder.verify_file(tmp_path, manifest, name)
    with runfolder.Run(tmp_path, "oneshot", cfg()) as again:
        assert again.complete and again.manifest["identity"] == manifest["identity"]


def test_run_that_raises_or_stops_early_leaves_no_manifest(tmp_path):
    with pytest.raises(RuntimeError):
        with runfolder.Run(tmp_path / "a", "model", cfg()) as run:
            run.save_json("x.json", {})
            raise RuntimeError("boom")
    assert not (tmp_path / "a" / runfolder.MANIFEST).exists()
    with runfolder.Run(tmp_path / "b", "model", cfg()) as run:
        run.save_json("x.json", {})
        run.leave_incomplete()
    assert not (tmp_path / "b" / runfolder.MANIFEST).exists()


def test_load_torch_refuses_pickled_code_in_one_line(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil(), protocol=2))  # torch.save's protocol: the refusal, not a protocol warning
    with pytest.raises(DataError, match="evil.pt is not a readable checkpoint"):
        runfolder.load_torch(path)
