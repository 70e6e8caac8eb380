"""`sla verify DIR [DIR ...]`: check run folders against their manifest.json, on demand.

A folder with a manifest.json is checked whole: the manifest's shape, then the sha256 of every
file it lists (config.yaml among them), streamed. A folder without one (a pipeline root such as
outputs/demo, or a sweep) has each run folder below it checked. Exit 0 when all hold, 1 otherwise;
each bad folder is one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla_cli.errors import USER_ERRORS, DataError
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
                raise DataError(f"{root} holds no manifest.json: "
                                "not a complete sla run folder (incomplete or not sla's)")
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
    return 1 if bad else 0
