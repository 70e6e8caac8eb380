"""Run folders: the one owner of every file a stage writes (see ``run.Run``).

``atomic``: writes that appear whole or not at all, disk-full as one line, stale temporaries.
``lock``: one writer per folder (an fcntl lock the kernel releases when its process dies).
``manifest``: what makes a folder complete, its checks and the hashes of its files.
``experiment``: which config keys are the experiment and which say how it is run (identity, resume, report).
``run``: ``with Run(out_dir, kind, cfg) as run:`` -- the only way a stage writes a run folder.
"""

from sla_cli.runfolder.atomic import (
    atomic_path,
    load_torch,
    remove_stale_temporaries,
    save_npy,
    save_torch,
    write_json,
    write_text,
)
from sla_cli.runfolder.experiment import differences, experiment, identity, is_how_to_run, without_invocation_keys
from sla_cli.runfolder.lock import LOCK, FolderLock
from sla_cli.runfolder.manifest import (
    CONFIG,
    MANIFEST,
    config_dict,
    finish,
    inside,
    leaves,
    load_manifest,
    read_json_object,
    read_manifest,
    sha256,
    verify_file,
    verify_files,
)
from sla_cli.runfolder.run import Run

__all__ = [
    "CONFIG",
    "LOCK",
    "MANIFEST",
    "FolderLock",
    "Run",
    "atomic_path",
    "config_dict",
    "differences",
    "experiment",
    "finish",
    "identity",
    "inside",
    "is_how_to_run",
    "leaves",
    "load_manifest",
    "load_torch",
    "read_json_object",
    "read_manifest",
    "remove_stale_temporaries",
    "save_npy",
    "save_torch",
    "sha256",
    "verify_file",
    "verify_files",
    "without_invocation_keys",
    "write_json",
    "write_text",
]
