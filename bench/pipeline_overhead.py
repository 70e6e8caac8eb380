"""How long `sla pipeline` takes to say what it will do, and what it adds to the sum of its stages.

    PYTHONPATH=. python bench/pipeline_overhead.py [--checkout DIR ...] [--repeats 3] [--smoke]
        [--work DIR] [-- extra overrides for every run, e.g. run.data_root=/data]

Two measures, each taken for every ``--checkout`` (default: this one) in turn, run after run
(A B A B ...), so that checkouts compared side by side share the machine's load:

- **pre-flight**: the wall time of ``sla pipeline preset=paper run.out=NEW run.device=cpu`` with no terminal,
  which prints the pre-flight table and its one-line choice (exit 2: it asks for
  ``pipeline.confirm=false`` or refuses for disk or memory) and must write nothing; the script checks
  that NEW does not exist afterwards. Issue 24's target: 10 s on a 2-core CPU.
- **overhead** (``--smoke``): one ``sla pipeline preset=smoke run.device=cpu run.threads=1`` into a fresh folder;
  the overhead is its wall time less the sum of the stages' own seconds (OUT/pipeline.json), i.e.
  start-up, imports, composing and checking every config, the pre-flight, the report and the exit.
  Then the same command again, where every stage is done and only verified: all of it overhead.
  Issue 24's target: at most 5 s.

Timings on a shared machine vary with its load; compare checkouts within one run of this script.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


CPU: dict[Path, list[float]] = {}  # each run's CPU seconds (user + system): less at the mercy of the load


def _spelt_for(checkout: Path, args: list[str]) -> list[str]:
    """``args`` as ``checkout`` spells them: one from before the run: block (conf/common.yaml) takes
    out=, device=, threads=, data.root= (today's sla still reads those, with a note)."""
    if "\nrun:" in (checkout / "conf" / "common.yaml").read_text():
        return args
    old = {"run.out": "out", "run.device": "device", "run.threads": "threads", "run.data_root": "data.root"}
    return [old.get(a.split("=", 1)[0], a.split("=", 1)[0]) + "=" + a.split("=", 1)[1] if "=" in a else a for a in args]


def _sla(checkout: Path, args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    args = _spelt_for(checkout, args)
    env = {**os.environ, "PYTHONPATH": str(checkout), "COLUMNS": "100"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sla_cli", "pipeline", *args],
        env=env,
        cwd=checkout,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(checkout, []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, done


def preflight_seconds(checkout: Path, work: Path, extra: list[str]) -> float:
    out = work / "preflight_out"
    seconds, done = _sla(checkout, ["preset=paper", f"run.out={out}", "run.device=cpu", *extra])
    if "pre-flight" not in done.stdout + done.stderr:
        sys.exit(f"{checkout}: no pre-flight table (exit {done.returncode}): {done.stderr.strip()[-300:]}")
    if out.exists():
        sys.exit(f"{checkout}: the pre-flight wrote {out} before the user chose")
    return seconds


def overhead_seconds(checkout: Path, work: Path, extra: list[str]) -> tuple[float, float, float]:
    """(wall, the stages' sum, the wall of a rerun where every stage is done; nan if it failed)."""
    out = work / "smoke_out"
    shutil.rmtree(out, ignore_errors=True)
    args = ["preset=smoke", f"run.out={out}", "run.device=cpu", "run.threads=1", *extra]
    wall, done = _sla(checkout, args)
    if done.returncode:
        sys.exit(f"{checkout}: the smoke pipeline failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    stages = json.loads((out / "pipeline.json").read_text())["stages"]
    inside = sum(s.get("seconds", 0.0) for s in stages.values())
    rerun, done = _sla(checkout, args)
    if done.returncode:  # reported, not fatal: a checkout being compared may have had this bug
        print(f"{checkout}: the rerun failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1]}")
        rerun = float("nan")
    shutil.rmtree(out, ignore_errors=True)
    return wall, inside, rerun


def _summary(values: list[float]) -> str:
    values = [v for v in values if v == v]  # a failed rerun is nan
    if not values:
        return "failed"
    return f"median {statistics.median(values):5.1f} s (min {min(values):.1f}, max {max(values):.1f}, n={len(values)})"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", action="append", type=Path, help="a source checkout (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="also run the smoke pipeline (minutes)")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    checkouts = [c.resolve() for c in args.checkout or [REPO]]
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    work = args.work or Path(tempfile.mkdtemp(prefix="sla-bench-pipeline-"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.1f} at the start", flush=True)
    pre: dict[Path, list[float]] = {c: [] for c in checkouts}
    pre_cpu: dict[Path, list[float]] = {c: [] for c in checkouts}
    over: dict[Path, list[tuple[float, float, float]]] = {c: [] for c in checkouts}
    for r in range(args.repeats):
        for i, c in enumerate(checkouts):
            scratch = work / f"c{i}"
            scratch.mkdir(parents=True, exist_ok=True)
            pre[c].append(preflight_seconds(c, scratch, extra))
            pre_cpu[c].append(CPU[c][-1])
            print(
                f"[{r + 1}/{args.repeats}] {c}: pre-flight {pre[c][-1]:.1f} s ({pre_cpu[c][-1]:.1f} s CPU)", flush=True
            )
            if args.smoke:
                over[c].append(overhead_seconds(c, scratch, extra))
                wall, inside, rerun = over[c][-1]
                print(
                    f"[{r + 1}/{args.repeats}] {c}: smoke wall {wall:.1f} s, stages {inside:.1f} s, "
                    f"overhead {wall - inside:.1f} s, rerun (all done) {rerun:.1f} s",
                    flush=True,
                )
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end" if hasattr(os, "getloadavg") else "")
    for c in checkouts:
        print(f"{c}")
        print(f"  pre-flight (preset=paper, run.device=cpu): {_summary(pre[c])}")
        print(f"  its CPU time:                          {_summary(pre_cpu[c])}")
        if over[c]:
            print(f"  smoke overhead (wall - stages):       {_summary([w - s for w, s, _ in over[c]])}")
            print(f"  smoke rerun, every stage done:         {_summary([r for _, _, r in over[c]])}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
