"""`make gpu-check`: every GPU path verified and measured in one short run, each step in its own time limit.

With CUDA visible, at the paper's sizes; without it, a dry run of the same steps at the smoke preset
on the CPU (what CI runs, tests/test_gpu_check.py). In order:
  tests       the `gpu`-marked tests (tests/test_gpu_paths.py; all skipped on a dry run)
  render      bench/render.py: context-images/s (target: >= 5 M/s at 48x48 on CUDA)
  train_step  bench/train_step.py: batched vs naive (target >= 20x), share of the bf16 peak (>= 40%)
  train       `sla generate-cubes` + `sla train preset=paper` for a fixed number of steps: throughput
  scale       the scale study's largest points, through bench/scale.py when it exists (hook below)
  classify    `sla classify preset=paper` for one seed
Each step runs in subprocesses (a hang or a crash costs that step only), is stopped at its limit or
when the whole budget is spent, and writes OUT/<step>.json (status, figures, targets, the machine:
device, memory, driver, torch, date) and OUT/<step>.log; OUT/summary.md is rewritten after every step.

On a machine without Hydra (the GPU machine), the wheels of hydra-core, omegaconf and antlr4 are
installed from .whl/ (or --wheels DIR) into a scratch folder first, and MNIST is found in
$SLA_DATA_ROOT, .data/, ../shared/data or data/. docs/gpu-check.md says how to run it with the device tool.

    python3 bench/gpu_check.py [--out gpu-check] [--steps train,classify] [--budget-s 420] [--device cpu]
    python3 bench/gpu_check.py --prepare    # copy ../shared/wheels and ../shared/data into .whl/ and .data/

Scale hook: when bench/scale.py exists, the scale step runs
    python bench/scale.py --gpu-check --out OUT/scale --budget-s SECONDS --device cuda|cpu [--dry-run]
and expects it to run the study's largest points that fit in SECONDS (the smallest at the smoke
preset with --dry-run), writing OUT/scale/points.json, a list of {"name", ...figures}, which the summary shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import gpu_check_summary as summary  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
STEP_NAMES = ("tests", "render", "train_step", "train", "scale", "classify")
# Each step's time limit in seconds (on CUDA, on a dry run); the whole run is capped by --budget-s as well.
LIMITS = {
    "tests": (150, 240),
    "render": (60, 120),
    "train_step": (90, 120),
    "train": (150, 400),
    "scale": (90, 60),
    "classify": (240, 600),
}
MIN_STEP_S = 15  # a step that would get less than this of the budget is skipped, not started
PAPER_TRAIN_STEPS = 1000  # the paper preset's training run of the train step (20,000 in the full preset)


def step_commands(name: str, out: Path, cuda: bool, scale_script: Path) -> list[list[str]] | None:
    """The commands of one step (run in order), or None when it has nothing to run here."""
    py, sla = sys.executable, [sys.executable, "-m", "sla_cli"]
    dev = ["run.device=cuda"] if cuda else ["run.device=cpu", "run.threads=1"]
    if name == "tests":
        return [
            [
                py,
                "-m",
                "pytest",
                "-q",
                "-m",
                "gpu",
                "-p",
                "no:cacheprovider",
                str(REPO / "tests" / "test_gpu_paths.py"),
                f"--junitxml={out / 'tests.xml'}",
            ]
        ]
    if name == "render":
        size = ["--digits", "2048", "--gpu-only"] if cuda else ["--quick", "--size", "24"]
        return [[py, str(REPO / "bench" / "render.py"), *size, "--json", str(out / "render_bench.json")]]
    if name == "train_step":
        sizes = ["--rounds", "5"] if cuda else ["--quick", "--threads", "1", "--rounds", "1"]
        return [[py, str(REPO / "bench" / "train_step.py"), *sizes, "--json", str(out / "train_step_bench.json")]]
    if name == "train":
        work = out / "work"
        if cuda:  # the paper's shapes (48x48, 100 contexts, hidden 2048, batch 256) on fewer digits: the same step
            data = ["preset=paper", "digits.train=4000", "digits.test=2000", "cubes.count=500"]
            train = ["preset=paper", f"train.steps={PAPER_TRAIN_STEPS}", f"run.checkpoint_every={PAPER_TRAIN_STEPS}"]
        else:
            data, train = ["preset=smoke"], ["preset=smoke", "train.steps=40", "run.log_every=10"]
        return [
            [*sla, "generate-cubes", *data, *dev, f"run.out={work / 'dataset'}", "run.overwrite=true"],
            [
                *sla,
                "train",
                *train,
                *dev,
                f"dataset_dir={work / 'dataset'}",
                f"run.out={work / 'model'}",
                "run.overwrite=true",
                "run.resume=false",
            ],
        ]
    if name == "scale":
        if not scale_script.is_file():
            return None
        return [
            [
                py,
                str(scale_script),
                "--gpu-check",
                "--out",
                str(out / "scale"),
                "--budget-s",
                "{budget}",
                "--device",
                "cuda" if cuda else "cpu",
                *([] if cuda else ["--dry-run"]),
            ]
        ]
    if name == "classify":
        preset = ["preset=paper"] if cuda else ["preset=smoke", "classify.train.epochs=1"]
        return [
            [
                *sla,
                "classify",
                *preset,
                "classify.seeds=[0]",
                *dev,
                f"run.out={out / 'work' / 'classify'}",
                "run.overwrite=true",
            ]
        ]
    raise ValueError(name)


def run_commands(commands: list[list[str]], limit_s: float, log: Path, env: dict) -> dict:
    """Run the commands in order into ``log`` until one fails or ``limit_s`` is spent (then its process group
    is killed): {"status": passed | failed | timed out, "returncode", "seconds"}."""
    start = time.monotonic()
    with log.open("w") as out:
        for cmd in commands:
            left = limit_s - (time.monotonic() - start)
            cmd = [part.replace("{budget}", str(int(left))) for part in cmd]
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
            )
            try:
                code = proc.wait(timeout=max(left, 0.1))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the step's own process group: its children too
                proc.wait()
                out.write(f"\n[gpu-check: stopped at the step's limit of {limit_s:.0f} s]\n")
                return {"status": "timed out", "returncode": None, "seconds": time.monotonic() - start}
            if code != 0:
                return {"status": "failed", "returncode": code, "seconds": time.monotonic() - start}
    return {"status": "passed", "returncode": 0, "seconds": time.monotonic() - start}


def find_wheels(given: Path | None) -> Path | None:
    for folder in ([given] if given else []) + [REPO / ".whl", REPO.parent / "shared" / "wheels"]:
        if folder and any(folder.glob("hydra_core-*.whl")):
            return folder
    return None


def find_mnist() -> Path | None:
    roots = [os.environ.get("SLA_DATA_ROOT"), REPO / ".data", REPO.parent / "shared" / "data", REPO / "data"]
    for root in roots:
        if root and any((Path(root) / "MNIST" / "raw").glob("train-images-idx3-ubyte*")):
            return Path(root).resolve()
    return None


def install_wheels(folder: Path, site: Path) -> str | None:
    """pip-install every wheel and source archive in ``folder`` into ``site``, offline; the error, or None."""
    files = sorted(str(f) for f in [*folder.glob("*.whl"), *folder.glob("*.tar.gz")])
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--no-deps",
        "--no-build-isolation",
        "--target",
        str(site),
        *files,
    ]
    done = subprocess.run(pip, capture_output=True, text=True)
    return None if done.returncode == 0 else f"installing the wheels from {folder} failed: {done.stderr[-300:]}"


def subprocess_env(out: Path, wheels: Path | None) -> tuple[dict, list[str]]:
    """The steps' environment (Hydra installed from the wheels if this Python lacks it, MNIST found),
    and the problems met, each one line."""
    env, problems, paths = dict(os.environ, PYTHONUNBUFFERED="1"), [], [str(REPO)]
    probe = subprocess.run([sys.executable, "-c", "import hydra, omegaconf"], capture_output=True, env=env)
    if probe.returncode != 0:
        folder = find_wheels(wheels)
        if folder is None:
            problems.append(
                "Hydra is not installed and no wheels were found (.whl/ or --wheels DIR): see docs/gpu-check.md"
            )
        elif (error := install_wheels(folder, out / "site")) is not None:
            problems.append(error)
        paths.insert(0, str(out / "site"))
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
    mnist = find_mnist()
    if mnist is None:
        problems.append("MNIST not found (SLA_DATA_ROOT, .data/, ../shared/data, data/): see docs/gpu-check.md")
    else:
        env["SLA_DATA_ROOT"] = str(mnist)
    return env, problems


def prepare(shared: Path) -> None:
    """Here, before a device call: the wheels and MNIST into .whl/ and .data/ (git-ignored, carried)."""
    for src, dst in ((shared / "wheels", REPO / ".whl"), (shared / "data", REPO / ".data")):
        if not src.is_dir():
            sys.exit(f"gpu_check.py: error: {src} does not exist (--shared DIR: the folder holding wheels/ and data/)")
        shutil.copytree(src, dst, dirs_exist_ok=True)
        print(f"copied {src} -> {dst}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / "gpu-check")
    p.add_argument("--steps", default=",".join(STEP_NAMES), help="comma-separated subset, run in the usual order")
    p.add_argument("--budget-s", type=float, help="the whole run's limit in seconds (default 420 on CUDA, 1500 dry)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto", help="cpu: a dry run even with CUDA")
    p.add_argument("--wheels", type=Path, help="folder of the hydra-core, omegaconf and antlr4 wheels")
    p.add_argument("--scale-script", type=Path, default=REPO / "bench" / "scale.py", help=argparse.SUPPRESS)
    p.add_argument("--prepare", action="store_true", help="copy the wheels and MNIST into .whl/ and .data/, then stop")
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="with --prepare: where they are")
    args = p.parse_args()
    if args.prepare:
        return prepare(args.shared)
    wanted = [s for s in args.steps.split(",") if s]
    if unknown := sorted(set(wanted) - set(STEP_NAMES)):
        sys.exit(f"gpu_check.py: error: unknown step {unknown[0]!r} (steps: {', '.join(STEP_NAMES)})")

    import torch  # after argument checks: --help and bad arguments answer at once

    cuda = torch.cuda.is_available() and args.device != "cpu"
    if args.device == "cuda" and not cuda:
        sys.exit("gpu_check.py: error: --device cuda but no CUDA device is visible")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    machine = summary.machine_info(cuda)
    env, problems = subprocess_env(out, args.wheels)
    sys.path[:0] = [p for p in env["PYTHONPATH"].split(os.pathsep) if p not in sys.path]  # the summary reads runs
    budget = args.budget_s or (420 if cuda else 1500)
    start, records = time.monotonic(), []
    for name in (s for s in STEP_NAMES if s in wanted):
        left = budget - (time.monotonic() - start)
        commands = step_commands(name, out, cuda, args.scale_script)
        record = {
            "step": name,
            "dry_run": not cuda,
            "machine": machine,
            "limit_s": LIMITS[name][0 if cuda else 1],
            "figures": {},
            "targets": [],
        }
        if commands is None:
            record.update(status="skipped", reason=f"no {args.scale_script.name} yet: the scale study's hook")
        elif problems:
            record.update(status="not run", reason="; ".join(problems))
        elif left < MIN_STEP_S:
            record.update(status="skipped", reason=f"the budget of {budget:.0f} s was spent")
        else:
            record["limit_s"] = min(record["limit_s"], left)
            print(f"gpu-check: {name} (limit {record['limit_s']:.0f} s) ...", flush=True)
            record.update(run_commands(commands, record["limit_s"], out / f"{name}.log", env))
            record["commands"] = [" ".join(c) for c in commands]
            record.update(summary.figures(name, out, cuda))
        print(
            f"gpu-check: {name}: {record['status']}" + (f" ({record['reason']})" if "reason" in record else ""),
            flush=True,
        )
        (out / f"{name}.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
        records.append(record)
        (out / "summary.md").write_text(summary.summary_md(records, machine, budget))
    print(f"gpu-check: wrote {out / 'summary.md'}")
    sys.exit(0 if all(r["status"] in ("passed", "skipped") for r in records) else 1)


if __name__ == "__main__":
    main()
