"""The paper's figures, each mapped to the file the stage that makes its equivalent writes, linked
relative to report.md and only when the manifest lists the file and it matches its sha256."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.pipeline.registry import CLASSIFY_FILES, CONCEPT_FILES, DATASET_FILES, MODEL_FILES, ONESHOT_FILES
from sla_cli.report.collect import Stage
from sla_cli.report.markdown import escape


@dataclass(frozen=True)
class Figure:
    paper: str  # the paper's figure number(s), or "" for ours alone
    caption: str
    stage: str  # stage folder
    file: str  # a file name the stage registry declares for that stage


FIGURES = (
    Figure("4, 13", "cube samples, and one cube turning from 0 to 90 degrees", "dataset", DATASET_FILES.cubes_figure),
    Figure("5", "the same digit in every context", "dataset", DATASET_FILES.contexts_figure),
    Figure(
        "6", "context transfer: encoded by one context, decoded by every other", "model", MODEL_FILES.transfer_figure
    ),
    Figure("7", "masks of the cube faces, one per context", "dataset", DATASET_FILES.masks_figure),
    Figure(
        "9",
        "a never-seen glyph encoded in one context and decoded in every context",
        "oneshot",
        ONESHOT_FILES.decoded_figure,
    ),
    Figure(
        "10, 11",
        "latent distances: same glyph across contexts vs different glyphs in one context",
        "oneshot",
        ONESHOT_FILES.distances_figure,
    ),
    Figure(
        "12",
        "context maps of cubes of two digits at the same angles (the paper's likelihood maps; ours: each context's "
        f"masked reconstruction term as a ratio to a blank face, as {CONCEPT_FILES.results}'s map.name says)",
        "concept",
        CONCEPT_FILES.maps_figure,
    ),
    Figure("14", "maps decoded along the second level's one latent component", "concept", CONCEPT_FILES.sweep_figure),
    Figure(
        "15, 16",
        "back-projection: a turning cube with a 3, and with the V glyph, beside true renders",
        "concept",
        CONCEPT_FILES.backprojection_figure,
    ),
    Figure(
        "",
        "one-shot accuracy in every context, per protocol (10x10 maps)",
        "oneshot",
        ONESHOT_FILES.accuracy_maps_figure,
    ),
    Figure(
        "",
        "texture invariance: angle error per texture and reader, trained on one digit",
        "concept",
        CONCEPT_FILES.invariance_figure,
    ),
    Figure("", "training curves, self and cross loss", "model", MODEL_FILES.curves_figure),
    Figure(
        "",
        "confusion matrices of the set's scorings and the MLP (Table 1)",
        "classify",
        CLASSIFY_FILES.confusion_figure,
    ),
    Figure(
        "", "log-likelihood under each class autoencoder, own class vs others", "classify", CLASSIFY_FILES.loglik_figure
    ),
)


def _figure_folder(stage: Stage) -> Path | None:
    """Where a complete stage's figures are: its run folder (the first seed's, for a sweep)."""
    return stage.runs[0].folder if stage.complete and stage.runs else None


def link(root: Path, stage: Stage, file: str, caption: str) -> str:
    """A markdown image of a file the stage's manifest lists, checked against its sha256 (and so
    inside its folder), relative to report.md; else why there is none."""
    folder = _figure_folder(stage)
    if folder is None:
        return f"*missing: {stage.spec.folder}/ is {stage.status}*"
    path = folder / file
    rel = path.relative_to(root).as_posix()
    if file not in stage.runs[0].manifest["sha256"] or not path.is_file():
        return f"*missing: the {stage.spec.folder} stage wrote no {escape(rel)}*"
    try:
        runfolder.verify_file(folder, stage.runs[0].manifest, file)
    except DataError as e:
        return f"*not shown: {escape(e)}*"
    return f"![{escape(caption)}]({quote(rel)})"  # percent-encoded: a file name cannot end the link early


def _others(root: Path, stages: dict[str, Stage]) -> list[str]:
    """PNGs a complete stage lists in its manifest that the map above does not name."""
    known = {(f.stage, f.file) for f in FIGURES}
    out = []
    for name, stage in stages.items():
        folder = _figure_folder(stage)
        if folder is None:
            continue
        for file in stage.runs[0].manifest.get("sha256", {}):
            if file.endswith(".png") and (name, file) not in known and (folder / file).is_file():
                out += [f"- {escape(f'{name}/{file}')}", "", link(root, stage, file, f"{name} {file}"), ""]
    return out


def section(root: Path, stages: dict[str, Stage]) -> list[str]:
    out = [
        "## Figures",
        "",
        "The equivalents of the paper's figures, as our stages draw them (paths relative to this file).",
        "",
    ]
    for f in FIGURES:
        title = (
            f"Paper figure{'s' if ',' in f.paper else ''} {f.paper}: {f.caption}" if f.paper else f"Ours: {f.caption}"
        )
        out += [f"### {title} ({f.stage}/{f.file})", "", link(root, stages[f.stage], f.file, f.caption), ""]
    others = _others(root, stages)
    if others:
        out += ["### Other figures the stages wrote", "", *others]
    return out
