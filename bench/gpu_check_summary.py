"""bench/gpu_check.py's reporting: the machine, each step's figures and targets, and summary.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from bench.flops import step_flops

REPO = Path(__file__).resolve().parent.parent
RENDER_METHOD = "grid_sample_ss2/cuda"  # what generate-cubes runs on CUDA (backend auto, supersample 2)


def machine_info(cuda: bool) -> dict:
    """Device name, memory, driver, torch and CUDA versions, the date: written into every step's JSON."""
    import torch

    info = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "git_commit": _output(["git", "-C", str(REPO), "rev-parse", "HEAD"]),
    }
    if cuda:
        props = torch.cuda.get_device_properties(0)
        info.update(
            device=props.name,
            memory_gib=round(props.total_memory / 2**30, 1),
            driver=_output(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]),
        )
    else:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        info.update(
            device=f"CPU ({platform.processor() or platform.machine()})",
            memory_gib=round(pages / 2**30, 1),
            driver=None,
        )
    return info


def _output(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout.strip() else None


def _json(path: Path) -> dict | list | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _run_json(folder: Path, kind: str, name: str) -> dict | None:
    """A complete run folder's JSON file, read through its manifest's sha256 (None if the run is not complete)."""
    try:
        from sla_cli.runfolder import read_manifest, verify_file

        manifest = read_manifest(folder, kind)
        return {**json.loads(verify_file(folder, manifest, name).read_text()), "_manifest": manifest}
    except Exception:  # an unfinished run (timed out, failed): no figures, the step's status says why
        return None


def _target(what: str, value, target: float, cuda: bool) -> dict:
    met = None if (value is None or not cuda) else bool(value >= target)  # a dry run checks plumbing, not speed
    return {"what": what, "value": value, "goal": f">= {target:,g}", "met": met}


def figures(step: str, out: Path, cuda: bool) -> dict:
    """{"figures": {...}, "targets": [...]} of a finished step, read from what it wrote."""
    fig, targets = {}, []
    if step == "tests" and (out / "tests.xml").is_file():
        suite = ET.parse(out / "tests.xml").getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        fig = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
        ran_clean = fig["failures"] + fig["errors"] + fig["skipped"] == 0 and fig["tests"] > 0
        targets.append(
            {
                "what": "gpu tests",
                "value": ran_clean,
                "goal": "all pass, none skipped",
                "met": ran_clean if cuda else None,
            }
        )
    elif step == "render" and (r := _json(out / "render_bench.json")):
        fig = {"frame": r["size"], "context_images_per_s": {k: round(v) for k, v in r["methods"].items()}}
        rate = r["methods"].get(RENDER_METHOD)
        targets.append(_target(f"{RENDER_METHOD} context-images/s at 48x48", rate, 5e6, cuda))
    elif step == "train_step" and (r := _json(out / "train_step_bench.json")):
        first = r["results"][0]
        v = first["variants"]
        batched = v.get("batched") or v["fast"]
        fig = {
            "sizes": first["sizes"],
            "batched_step_ms": batched["step_ms"]["wall"],
            "batched_tflops": batched["gflops"]["wall"] / 1e3,
            "measured_mm_peak_tflops": first["mm_peak_gflops"]["wall"] / 1e3,
            "share_of_measured_peak": batched["share_of_peak"]["wall"],
            "naive_over_batched": first.get("naive_over_batched"),
            "fast_over_autograd": first.get("fast_over_autograd"),
        }
        listed = r.get("listed_bf16_peak_tflops")
        fig["share_of_listed_bf16_peak"] = fig["batched_tflops"] / listed if listed else None
        targets.append(_target("naive / batched step time", fig["naive_over_batched"], 20, cuda))
        targets.append(_target("share of the listed bf16 peak", fig["share_of_listed_bf16_peak"], 0.40, cuda))
    elif step == "train" and (m := _run_json(out / "work" / "model", "model", "metrics.json")):
        man = m.pop("_manifest")
        model, batch = man["model"], man["config"]["train"]["batch_size"]
        flops = step_flops(model["n_members"], model["dim"], model["hidden"], model["latent"], batch)["total"]
        per_s = m["steps"] / m["train_seconds"]
        fig = {
            "steps": m["steps"],
            "train_seconds": m["train_seconds"],
            "steps_per_s": per_s,
            "context_images_per_s": per_s * model["n_members"] * batch,
            "tflops": per_s * flops / 1e12,
            "model": model,
            "batch_size": batch,
            "device": m["device"],
            **{k: m[k] for k in ("test_cross_mse", "test_self_mse", "mean_image_mse") if k in m},
        }
        bench = _json(out / "train_step_bench.json")
        if bench:
            fig["share_of_measured_mm_peak"] = fig["tflops"] * 1e3 / bench["results"][0]["mm_peak_gflops"]["wall"]
    elif step == "scale" and (points := _json(out / "scale" / "points.json")) is not None:
        fig = {"points": points}
    elif step == "classify" and (c := _run_json(out / "work" / "classify", "classify", "results.json")):
        c.pop("_manifest")
        fig = {
            "mlp_accuracy": c["mlp"]["accuracy"],
            "device": c["device"],
            "preset": c["preset"],
            **{f"ae_set_{k}_accuracy": v["accuracy"] for k, v in c["ae_set"].items()},
            "train_seconds": c["per_seed"][0].get("train_seconds"),
        }
    return {"figures": fig, "targets": targets}


def _short(fig: dict) -> str:
    keys = (
        "tests",
        "failures",
        "skipped",
        "batched_tflops",
        "share_of_listed_bf16_peak",
        "naive_over_batched",
        "fast_over_autograd",
        "steps_per_s",
        "context_images_per_s",
        "tflops",
        "mlp_accuracy",
        "ae_set_full_accuracy",
    )
    parts = []
    for k in keys:
        v = fig.get(k)
        if isinstance(v, dict):
            v = v.get("wall")
        if isinstance(v, float):
            parts.append(f"{k} {v:.3g}")
        elif isinstance(v, int):
            parts.append(f"{k} {v}")
    if "context_images_per_s" in fig and isinstance(fig["context_images_per_s"], dict):
        parts += [f"{k} {v:,}/s" for k, v in fig["context_images_per_s"].items() if "grid_sample" in k]
    return "; ".join(parts)


def summary_md(records: list[dict], machine: dict, budget_s: float) -> str:
    dry = records[0]["dry_run"] if records else True
    lines = [
        f"# gpu-check on {machine['device']}, {machine['date']}",
        "",
        f"torch {machine['torch']} (CUDA {machine['cuda']}), driver {machine['driver']}, "
        f"{machine['memory_gib']} GiB, {machine['cpu_count']} CPU cores, commit {machine['git_commit']}; "
        f"budget {budget_s:.0f} s.",
        "",
    ]
    if dry:
        lines += [
            "**Dry run** (no CUDA): every step at the smoke preset on the CPU. It checks that the steps run "
            "and report; its figures say nothing about a GPU, and no target is judged.",
            "",
        ]
    lines += ["| step | status | seconds (limit) | figures |", "| --- | --- | --- | --- |"]
    for r in records:
        took = f"{r['seconds']:.0f} ({r['limit_s']:.0f})" if "seconds" in r else "-"
        lines.append(
            f"| {r['step']} | {r['status']}{': ' + r['reason'] if 'reason' in r else ''} | {took} | "
            f"{_short(r.get('figures', {}))} |"
        )
    targets = [(r["step"], t) for r in records for t in r.get("targets", [])]
    if targets:
        lines += ["", "| step | target | value | met |", "| --- | --- | --- | --- |"]
        for step, t in targets:
            value = f"{t['value']:.3g}" if isinstance(t["value"], float) else str(t["value"])
            met = {True: "yes", False: "**no**", None: "not judged"}[t["met"]]
            lines.append(f"| {step} | {t['what']} {t['goal']} | {value} | {met} |")
    lines += ["", "Each step's figures in full: `<step>.json`; its output: `<step>.log`. Commands: in each JSON."]
    return "\n".join(lines) + "\n"
