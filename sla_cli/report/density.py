"""Density models (`sla density`), shown when RUN_ROOT holds a density/ folder: each model's test NLL
± its standard error over test images beside every published anchor, each with its binarization and
split.

density.json is being reworked (issue 23), so it is read defensively: the NLL from ``test_nll_nats``,
its standard error from the first key named like ``test_nll…_se`` / ``_stderr`` / ``_sem``, the
anchors from ``anchors`` (a list of objects, or an object of objects or numbers, each with its nats
and, where given, binarization, split and source). What a run does not hold shows as "not reported".
density/ is one run folder, or one run folder per model (density/made, density/vae, ...).
"""

from __future__ import annotations

import re
from pathlib import Path

from sla_cli import runfolder
from sla_cli.pipeline.registry import DENSITY
from sla_cli.report.collect import Stage, StageSpec, collect_stage
from sla_cli.report.markdown import escape, table
from sla_cli.report.numbers import NOT_A_NUMBER, NOT_REPORTED, first, fmt, is_number

FOLDER = "density"  # RUN_ROOT/density/: not a pipeline step, so the registry names no folder for it
SE_KEY = re.compile(r"^test_nll\w*_(se|stderr|sem)(_nats)?$")
NUMBER_KEYS = ("nats", "test_nll_nats", "value", "nll")  # an anchor's number, by the first of these it holds
WHAT = {"made": "exact NLL (mask ensemble)", "vae": "IWAE-k bound on the NLL", "dae": "not a likelihood"}


def collect(root: Path, stages: dict[str, Stage]) -> dict[str, Stage]:
    """The density run(s) under ROOT/density/, unless the collector already holds them; {} if none."""
    root = Path(root)
    folder = root / FOLDER
    if FOLDER in stages or not folder.is_dir():
        return {}
    if (folder / runfolder.MANIFEST).exists() or (folder / runfolder.CONFIG).exists():
        return {FOLDER: collect_stage(root, StageSpec(FOLDER, DENSITY.kind, DENSITY.name, DENSITY.numbers))}
    models = sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / runfolder.CONFIG).exists())
    return {
        f"{FOLDER}/{m}": collect_stage(folder, StageSpec(m, DENSITY.kind, DENSITY.name, DENSITY.numbers))
        for m in models
    }


def is_density(name: str) -> bool:
    return name == FOLDER or name.startswith(f"{FOLDER}/")


def with_density(root: Path, stages: dict[str, Stage]) -> tuple[dict[str, Stage], dict[str, Stage]]:
    """(every stage, the density ones): the collector's stages plus the density run(s) found under the
    root; a density stage that is missing is dropped (density/ is optional)."""
    every = {
        n: s for n, s in {**stages, **collect(root, stages)}.items() if not (is_density(n) and s.status == "missing")
    }
    return every, {n: s for n, s in every.items() if is_density(n)}


def _se(record: dict):
    for key, v in record.items() if isinstance(record, dict) else ():
        if SE_KEY.match(str(key)):
            return v
    return None


def nll(d: Stage) -> str:
    """'89.04 ± 0.21 (s.e.)' from the first run's JSON; why not, when it holds no NLL."""
    if not d.complete:
        return d.status
    record = d.records()[0] if d.records() else {}
    value = first(d, "test_nll_nats")
    if value is None:
        return _denoising(d)
    if not is_number(value):
        return NOT_A_NUMBER
    se = _se(record)
    if se is None:
        return f"{fmt(value)} (s.e. not reported)"
    return f"{fmt(value)} ± {fmt(se)} (s.e.)" if is_number(se) else f"{fmt(value)} (s.e.: {NOT_A_NUMBER})"


def _denoising(d: Stage) -> str:
    """A denoising autoencoder has no NLL: its denoising cross-entropy (per member, plain and walkback)."""
    members = first(d, "members")
    found = members.items() if isinstance(members, dict) else [("", first(d))]
    parts = [
        f"{escape(name)} {fmt(ce)}".strip()
        for name, m in found
        if isinstance(m, dict) and is_number(ce := m.get("test_denoising_ce_nats"))
    ]
    return f"no NLL (denoising cross-entropy, nats: {', '.join(parts)})" if parts else NOT_REPORTED


LABELS = {"n_test": "test images", "test_binarization": "test binarization", "n_train": "training images"}


def _setting(record: dict, *names: str) -> str:
    found = [
        f"{LABELS.get(n, n)}: {escape(record[n])}"
        for n in names
        if isinstance(record, dict) and record.get(n) is not None
    ]
    return "; ".join(found) or NOT_REPORTED


def anchors(d: Stage) -> list[tuple[str, str, str]]:
    """(name, nats, its setting) for each anchor the run states."""
    found = first(d, "anchors")
    items = found.items() if isinstance(found, dict) else enumerate(found) if isinstance(found, list) else ()
    out = []
    for key, a in items:
        if is_number(a):
            out.append((escape(key), fmt(a), NOT_REPORTED))
            continue
        a = a if isinstance(a, dict) else {}
        name = a.get("name") or a.get("what") or a.get("label") or key
        number = next((a[k] for k in NUMBER_KEYS if k in a), None)
        nats = fmt(number) if is_number(number) else NOT_REPORTED if number is None else NOT_A_NUMBER
        out.append((escape(name), nats, _setting(a, "binarization", "split", "source", "table")))
    return out


def rows(stages: dict[str, Stage]) -> list[list[str]]:
    out = []
    for name, d in stages.items():
        model = first(d, "model")
        what = WHAT.get(model, NOT_REPORTED) if isinstance(model, str) else NOT_REPORTED
        record = d.records()[0] if d.complete and d.records() else {}
        ours = [
            f"{escape(name)}/ ({escape(model) if model is not None else d.status})",
            nll(d),
            what,
            _setting(record, "binarization", "test_binarization", "split", "n_test"),
        ]
        found = anchors(d) if d.complete else []
        out += [[*ours, *a] for a in found] or [[*ours, NOT_REPORTED if d.complete else "", "", ""]]
    return out


def section(stages: dict[str, Stage]) -> list[str]:
    if not stages:
        return []
    return [
        "### Density models (`sla density`)",
        "",
        "Test NLL in nats ± its standard error over the test images, beside each published anchor the run "
        "states. Compare only rows whose binarization and split agree: a dynamic and a fixed binarization, or "
        "another split, are not the same test.",
        "",
        *table(
            [
                "run",
                "ours: test NLL, nats",
                "what it is",
                "our binarization and split",
                "anchor",
                "anchor, nats",
                "anchor's binarization and split",
            ],
            rows(stages),
        ),
        "",
    ]
