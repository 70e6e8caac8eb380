"""Issue 9, in runfolder itself: one writer per folder, overwrite that never destroys a finished run
before the new one writes, no trace of a failed run, stale temporaries, manifests of the wrong
shape, corruption caught on the "nothing to do" path, and `sla verify`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from omegaconf import OmegaConf

from sla_cli import runfolder, verify
from sla_cli.errors import DataError


def cfg(overwrite: bool = False, **kw):
    return OmegaConf.create({"seed": 0, "run": {"overwrite": overwrite, "device": "cpu"}, "size": 4, **kw})


def complete_run(folder, kind: str = "dataset", **kw):
    with runfolder.Run(folder, kind, cfg(**kw)) as run:
        run.save_npy("a.npy", np.arange(5))
        run.save_json("b.json", {"v": 1})
    return json.loads((folder / runfolder.MANIFEST).read_text())


def test_a_locked_folder_is_refused_in_one_line(tmp_path):
    lock = runfolder.FolderLock(tmp_path).acquire()
    try:
        with pytest.raises(DataError, match=r"in use by another sla run \(pid \d+\)"):
            with runfolder.Run(tmp_path, "dataset", cfg()):
                pass
    finally:
        lock.release()
    assert not (tmp_path / runfolder.LOCK).exists()
    complete_run(tmp_path)  # free again


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    code = (
        "import sys, time; from sla_cli.runfolder import FolderLock; FolderLock(sys.argv[1]).acquire(); "
        "print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataError, match="in use"):
            runfolder.FolderLock(tmp_path).acquire()
    finally:
        holder.kill()  # kill -9: no clean-up runs
        holder.wait()
    assert (tmp_path / runfolder.LOCK).exists()  # the file stays, the lock does not
    complete_run(tmp_path)


def test_config_yaml_is_hashed_and_a_tampered_one_is_caught(tmp_path):
    manifest = complete_run(tmp_path)
    assert manifest["sha256"]["config.yaml"] == runfolder.sha256(tmp_path / "config.yaml")
    with open(tmp_path / "config.yaml", "a") as f:
        f.write("seed: 1\n")
    with pytest.raises(DataError, match="config.yaml does not match its sha256"):
        runfolder.verify_files(tmp_path, runfolder.read_manifest(tmp_path, "dataset"))


def test_overwrite_keeps_the_finished_run_until_the_new_one_writes(tmp_path):
    old = complete_run(tmp_path)
    (tmp_path / "notes.txt").write_text("the user's own file")
    with pytest.raises(RuntimeError):
        with runfolder.Run(tmp_path, "dataset", cfg(size=8, overwrite=True)):
            raise RuntimeError("a check fails before any write (device, dataset, memory)")
    assert runfolder.read_manifest(tmp_path, "dataset") == old
    runfolder.verify_files(tmp_path, old)
    assert not (tmp_path / runfolder.LOCK).exists()


def test_overwrite_removes_only_what_the_old_manifest_named(tmp_path):
    complete_run(tmp_path)
    (tmp_path / "notes.txt").write_text("the user's own file")
    with runfolder.Run(tmp_path, "dataset", cfg(size=8, overwrite=True)) as run:
        run.save_json("c.json", {"v": 2})
        assert not (tmp_path / runfolder.MANIFEST).exists()  # the old run stops being valid at the first write
    manifest = runfolder.read_manifest(tmp_path, "dataset")
    assert sorted(manifest["sha256"]) == ["c.json", "config.yaml"]
    assert not (tmp_path / "a.npy").exists() and not (tmp_path / "b.json").exists()
    assert (tmp_path / "notes.txt").read_text() == "the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "config.yaml", "manifest.json", "notes.txt"]


@pytest.mark.parametrize("write_first", [False, True])
def test_a_failed_run_leaves_no_folder_and_no_lone_config(tmp_path, write_first):
    out = tmp_path / "run"
    with pytest.raises(DataError):
        with runfolder.Run(out, "dataset", cfg()) as run:
            if write_first:
                run.path("sub/x.npy")  # config.yaml and sub/ are made, x.npy is never written
            raise DataError("MNIST not found")
    assert not out.exists()


def test_out_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        runfolder.Run(tmp_path / "file", "dataset", cfg()).__enter__()
    with pytest.raises(DataError, match="cannot create run.out=/proc/sla-test"):
        runfolder.Run("/proc/sla-test", "dataset", cfg()).__enter__()


def test_stale_temporaries_of_dead_processes_are_removed_at_start(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "config.yaml").write_text("# sla dataset run\n")  # a run killed mid-write
    stale = [tmp_path / f".train_images.npy.tmp-{dead}", tmp_path / "checkpoints" / f".step_00000040.pt.tmp-{dead}"]
    live = tmp_path / f".model.pt.tmp-{os.getppid()}"  # a live process's write in progress: left alone
    for p in [*stale, live]:
        p.write_bytes(b"x" * 1000)
    with runfolder.Run(tmp_path, "dataset", cfg()) as run:
        run.save_json("a.json", {})
    assert not any(p.exists() for p in stale) and live.exists()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[1, 2]", "a JSON list, not an object"),
        ('{"kind": "dataset", "identity": "x", "config": {}, "sha256": "abc"}', "`sha256` is str"),
        ('{"kind": 3, "identity": "x", "config": {}, "sha256": {}}', "`kind` is int"),
        (
            '{"kind": "dataset", "identity": "x", "config": {}, "sha256": {"../../etc/passwd": "0"}}',
            "leaves the folder",
        ),
        ('{"kind": "dataset", "identity": "x", "config": {}, "sha256": {"a.npy": 5}}', "not 64 hex digits"),
        (
            '{"kind": "model", "identity": "x", "config": {}, "sha256": {}, "dataset": "d"}',
            "`dataset` is not an object",
        ),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path, text, problem):
    (tmp_path / runfolder.MANIFEST).write_text(text)
    with pytest.raises(DataError, match="not an sla manifest") as e:
        runfolder.read_manifest(tmp_path, "dataset")
    assert problem in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(DataError, match="run.overwrite=true"):
        with runfolder.Run(tmp_path, "dataset", cfg()):
            pass
    with runfolder.Run(tmp_path, "dataset", cfg(overwrite=True)) as run:  # overwrite replaces it
        run.save_json("a.json", {})
    assert runfolder.read_manifest(tmp_path, "dataset")["sha256"].keys() == {"a.json", "config.yaml"}


def test_nothing_to_do_path_verifies_the_hashes(tmp_path):
    complete_run(tmp_path)
    with runfolder.Run(tmp_path, "dataset", cfg()) as run:
        assert run.complete
    data = bytearray((tmp_path / "a.npy").read_bytes())
    data[-1] ^= 1
    (tmp_path / "a.npy").write_bytes(bytes(data))
    with pytest.raises(DataError, match="a.npy does not match its sha256.*run.overwrite=true runs it again"):
        with runfolder.Run(tmp_path, "dataset", cfg()):
            pass


def test_sla_verify(tmp_path, capsys):
    # a kind the stage registry does not know: verify checks hashes only (a registry kind must also list
    # the files every run of it writes: tests/pipeline/test_registry.py)
    complete_run(tmp_path / "root" / "dataset", kind="toy")
    complete_run(tmp_path / "root" / "other", kind="toy", size=5)
    assert verify.main([str(tmp_path / "root" / "dataset")]) == 0
    assert verify.main([str(tmp_path / "root")]) == 0
    assert capsys.readouterr().out.count("ok  ") == 3
    (tmp_path / "root" / "other" / "b.json").write_text('{"v": 2}')
    assert verify.main([str(tmp_path / "root")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other/b.json does not match its sha256" in err[0]
    (tmp_path / "empty").mkdir()
    assert verify.main([str(tmp_path / "empty")]) == 1
    assert "holds no manifest.json" in capsys.readouterr().err
