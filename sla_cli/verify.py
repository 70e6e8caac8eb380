"""`sla verify DIR [DIR ...]`: check run folders against their manifest.json, on demand.

A folder with a manifest.json is checked whole: the manifest's shape, that it lists the files every
run of its kind writes (the stage registry), then the sha256 of every file it lists (config.yaml
among them), streamed. A folder without one (a pipeline root such as outputs/demo, or a sweep) has
each run folder below it checked; a pipeline root also names the registry's stages it lacks. Exit 0
when all hold, 1 otherwise; each bad folder is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_cli.errors import USER_ERRORS, DataError
from sla_cli.pipeline.registry import BY_KIND, PIPELINE
from sla_cli.pipeline.status import FILE as PIPELINE_LOG
from sla_cli.runfolder import MANIFEST, read_manifest, verify_files


def run_folders(root: Path) -> list[Path]:
    """``root`` itself when it is a run folder, else every run folder below it."""
    if (root / MANIFEST).exists():
        return [root]
    return sorted(p.parent for p in root.rglob(MANIFEST))


def verify(folder: Path) -> str:
    """One line describing a verified folder; raises DataError when it does not hold."""
    manifest = read_manifest(folder, None)
    verify_files(folder, manifest)
    stage = BY_KIND.get(manifest["kind"])
    missing = [n for n in (stage.required if stage else ()) if n not in manifest["sha256"]]
    if missing:
        raise DataError(
            f"{folder}/manifest.json lists no {missing[0]}: not a complete sla {stage.name} run (every one writes it)"
        )
    size = sum((folder / name).stat().st_size for name in manifest["sha256"])
    return f"ok  {folder}  ({manifest['kind']}, {len(manifest['sha256'])} files, {size / 2**20:.1f} MiB)"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sla verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="a run folder, or a folder of run folders")
    args = parser.parse_args(argv)
    bad = 0
    for root in args.folders:
        try:
            if not root.is_dir():
                raise DataError(f"{root} is not a folder")
            folders = run_folders(root)
            if not folders:
                raise DataError(
                    f"{root} holds no manifest.json: not a complete sla run folder (incomplete or not sla's)"
                )
        except USER_ERRORS as e:
            print(f"sla verify: {e}", file=sys.stderr)
            bad += 1
            continue
        for folder in folders:
            try:
                print(verify(folder))
            except USER_ERRORS as e:
                print(f"sla verify: {e}", file=sys.stderr)
                bad += 1
        if (root / PIPELINE_LOG).exists():  # a pipeline's root: which of its stages are not there at all
            absent = [s.folder for s in PIPELINE if not (root / s.folder / MANIFEST).exists()]
            if absent:
                print(f"note: {root} holds no complete {', '.join(absent)} (`sla report {root}` says why)")
    return 1 if bad else 0
