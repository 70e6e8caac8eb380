"""Two roots of run folders made by two versions of the code with the same commands: are their numbers
the same? For each run folder under A (matched by its path under B): every file the manifest lists,
bit for bit by sha256 (arrays, figures); where the bytes differ, JSON, CSV and torch files value by
value (every tensor bit for bit), less what differs between any two runs of one experiment (wall
times, dates, paths, the code commit).

    PYTHONPATH=. python bench/compare_runs.py A B [--markdown FILE]

Used for issue 25's check that the training engine left the demo's numbers unchanged
(docs/engine_check.md). Exit 0 when every number is the same, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# JSON keys whose values differ between two runs of one experiment (times, places, provenance).
VOLATILE = re.compile(r"seconds|wall|time|created|date|commit|path|dir$|root|out$|host|python|torch|version|identity")


def numbers(node, prefix: str = "") -> dict[str, object]:
    """Every leaf of a JSON document as {dotted key: value}, less the volatile keys."""
    if isinstance(node, dict):
        out: dict[str, object] = {}
        for k, v in node.items():
            if not VOLATILE.search(str(k)):
                out.update(numbers(v, f"{prefix}{k}."))
        return out
    if isinstance(node, list):
        out = {}
        for i, v in enumerate(node):
            out.update(numbers(v, f"{prefix}{i}."))
        return out
    return {prefix.rstrip("."): node}


def _csv(path: Path) -> dict[str, object]:
    """A metrics.csv as {row.column: value}, less the volatile columns (wall times)."""
    rows = list(csv.DictReader(path.read_text().splitlines()))
    return {f"{i}.{k}": v for i, row in enumerate(rows) for k, v in row.items() if not VOLATILE.search(k)}


def _torch(path: Path) -> dict[str, object]:
    """A checkpoint or weights file (weights only) as {dotted key: tensor or value}, less volatile keys
    (the run_config's out path)."""
    import torch

    return numbers(torch.load(path, map_location="cpu", weights_only=True))


def _same(x, y) -> bool:
    import torch

    if torch.is_tensor(x) or torch.is_tensor(y):
        return torch.is_tensor(x) and torch.is_tensor(y) and x.dtype == y.dtype and torch.equal(x, y)
    return x == y


def _text(path: Path) -> dict[str, object]:
    """A markdown table page as {line number: line}, less the lines that report wall times."""
    return {str(i): line for i, line in enumerate(path.read_text().splitlines()) if "seconds" not in line}


READERS = {".json": lambda p: numbers(json.loads(p.read_text())), ".csv": _csv, ".pt": _torch, ".md": _text}


def compare(a: Path, b: Path) -> list[tuple[str, str, str]]:
    """(run folder, file, verdict) for every file listed by a manifest under ``a``."""
    from sla_cli.runfolder import MANIFEST

    rows = []
    for manifest_path in sorted(a.rglob(MANIFEST)):
        folder = manifest_path.parent
        rel = folder.relative_to(a)
        other = b / rel
        listed = json.loads(manifest_path.read_text())["sha256"]
        theirs = json.loads((other / MANIFEST).read_text())["sha256"] if (other / MANIFEST).exists() else {}
        for name, digest in sorted(listed.items()):
            if name == "config.yaml":  # holds the out path; its experiment is the manifest's identity
                continue
            if name not in theirs:
                verdict = "missing in B"
            elif theirs[name] == digest:
                verdict = "bit for bit"
            elif Path(name).suffix in READERS:
                x, y = (READERS[Path(name).suffix](f / name) for f in (folder, other))
                diff = sorted(k for k in x.keys() | y.keys() if not _same(x.get(k), y.get(k)))
                verdict = "same numbers" if not diff else f"DIFFERENT: {len(diff)} values, e.g. {', '.join(diff[:3])}"
            else:
                verdict = "DIFFERENT bytes"
            rows.append((str(rel), name, verdict))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--markdown", type=Path, help="also write the table here")
    args = p.parse_args()
    rows = compare(args.a, args.b)
    lines = ["| run folder | file | A against B |", "|---|---|---|", *(f"| {r} | `{n}` | {v} |" for r, n, v in rows)]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    bad = [r for r in rows if r[2].startswith(("DIFFERENT", "missing"))]
    print(f"{len(rows) - len(bad)} of {len(rows)} files the same" + (f"; {len(bad)} differ" if bad else ""))
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
