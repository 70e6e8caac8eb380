"""Assemble report.md from the collected stages and write it atomically into the run root."""

from __future__ import annotations

from pathlib import Path

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.report import beyond, claims, density, figures, low_data, provenance
from sla_cli.report.collect import Stage, collect
from sla_cli.report.markdown import escape

REPORT = "report.md"


def _presets(stages: dict[str, Stage]) -> str:
    found = {str(r.manifest.get("config", {}).get("preset", "?")) for s in stages.values() for r in s.runs}
    return escape(", ".join(sorted(found))) or "none"


def _scale_note(stages: dict[str, Stage]) -> str:
    presets = _presets(stages)
    if presets == "paper":
        return "Every complete stage ran at the paper preset."
    return (
        f"Preset(s) of these runs: **{presets}**. Only runs at the paper preset are at the paper's scale; "
        "the others are smaller and their numbers are not the paper's experiment."
    )


def render(root: Path, stages: dict[str, Stage], made_by: str | None = None) -> str:
    stages, density_stages = density.with_density(root, stages)  # optional: shown only when the root holds one
    incomplete = [f"{name}/ ({s.status})" for name, s in stages.items() if not s.complete]
    lines = [
        '# sla: Morzhakov 2018, "Sets of autoencoders with shared latent spaces", reproduced',
        "",
        _scale_note(stages),
        "",
    ]
    if incomplete:
        lines += [
            f"**Not every stage completed**: {', '.join(incomplete)}. Their numbers and figures are shown as such.",
            "",
        ]
    lines += [
        *claims.section(stages),
        *beyond.section(stages, density_stages),
        *low_data.section(root),
        *provenance.section(stages),
        *figures.section(root, stages),
        *provenance.how_made(root, made_by),
    ]
    return "\n".join(lines)


def build(root: Path, made_by: str | None = None) -> tuple[Path, dict[str, Stage]]:
    """Write ROOT/report.md; a one-line DataError when ROOT holds no run at all."""
    root = Path(root)
    stages = collect(root)
    path = root / REPORT
    if path.is_dir():
        raise DataError(f"{path} is a folder; remove it to write the report")
    try:
        runfolder.write_text(path, render(root, stages, made_by))
    except OSError as e:  # a read-only root, a folder we may not write in
        raise DataError(f"cannot write {path} ({e.strerror or e}); make {root} writable") from None
    return path, stages
