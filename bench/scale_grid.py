"""The scale study's grid (bench/scale.py): its datasets, its points and the `sla` commands of each point.

Every point trains one first-level set with `sla train` on one of the study's datasets and measures it
with the demo preset's eval stages, so every point is measured the same way:
  model/          sla train  preset=P model.hidden=H train.steps=S seed=SEED
  oneshot/        sla eval oneshot  oneshot.glyphs=builtin   (drawn glyphs; oracle and pixel NN inside)
  oneshot_fonts/  sla eval oneshot  oneshot.glyphs=fonts     (letters in other typefaces: new instances)
  concept/        sla eval concept  (held-out angle error, Spearman, unseen textures, with its controls)
The eval stages keep the default seed 0 whatever the training seed: the same glyph draws, cube splits
and probes at every point, so a seed band is the spread of training alone.

Why 12,000 training digits (not the demo's 3,000): 8,000 steps of 32 digits draw 256,000 digits,
85 passes over 3,000 (the big models would learn the set by heart) but 21 over 12,000 (5 at 2,000
steps). At 32x32 the 12,000 digits in 100 contexts are 1.2 GB of uint8, under train.device_data_mb
(2,048), so the whole set sits in memory as in the demo. The test digits (1,000) and the rotating cubes
(2,000) stay the demo's: the measures are the demo's.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.flops import run_flops

# The paper preset's training (conf/train/paper.yaml on conf/generate_cubes/paper.yaml): its FLOPs are
# the figures' vertical mark.
PAPER_PRESET = {"contexts": 100, "dim": 48 * 48, "hidden": 2048, "latent": 16, "batch": 256, "steps": 20000}
STAGES = ("model", "oneshot", "oneshot_fonts", "concept")


@dataclass(frozen=True)
class Point:
    dataset: str  # a key of the study's datasets (a folder under ROOT/datasets)
    hidden: int
    steps: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.dataset}_h{self.hidden}_s{self.steps}_seed{self.seed}"


@dataclass(frozen=True)
class Study:
    preset: str  # every stage's preset: demo (the study), smoke (its dry run)
    datasets: dict[str, list[str]]  # name -> `sla generate-cubes` overrides beside preset=...
    points: list[Point]
    shapes: dict  # the preset's contexts, latent and batch, for the FLOP estimate before a run exists
    frames: dict[str, int]  # dataset -> frame size in pixels
    concept: list[str]  # extra `sla eval concept` overrides (none in the study)

    def flops(self, p: Point) -> float:
        """The planned training FLOPs (bench/flops.py); the table counts them again from the run's own shapes."""
        s = self.shapes
        return run_flops(s["contexts"], self.frames[p.dataset] ** 2, p.hidden, s["latent"], s["batch"], p.steps)

    def by_flops(self, points: list[Point] | None = None) -> list[Point]:
        return sorted(points if points is not None else self.points, key=lambda p: (self.flops(p), p.name))


def _grid(widths, steps, two_seeds_up_to) -> list[Point]:
    return [
        Point("f32", h, s, seed) for h in widths for s in steps for seed in ((0, 1) if h <= two_seeds_up_to else (0,))
    ]


# The study: hidden {128, 256, 512, 1024} x steps {2000, 8000} at 32x32, two seeds at 128 and 256, and one
# 48x48 point at the width and budget of its 32x32 twin (f32_h512_s2000), so the frame alone changes.
STUDY = Study(
    preset="demo",
    datasets={"f32": ["digits.train=12000"], "f48": ["digits.train=12000", "render.size=48"]},
    points=_grid((128, 256, 512, 1024), (2000, 8000), 256) + [Point("f48", 512, 2000, 0)],
    shapes={"contexts": 100, "latent": 16, "batch": 32},  # conf/train.yaml (demo)
    frames={"f32": 32, "f48": 48},
    concept=[],
)

# The dry run (tests, `--dry-run`): the same structure at the smoke preset, in minutes on a CPU.
DRY_RUN = Study(
    preset="smoke",
    datasets={"f24": [], "f28": ["render.size=28"]},
    points=[Point("f24", 16, 40, 0), Point("f24", 16, 40, 1), Point("f24", 32, 80, 0), Point("f28", 16, 40, 0)],
    shapes={"contexts": 100, "latent": 8, "batch": 16},  # conf/train/smoke.yaml
    frames={"f24": 24, "f28": 28},
    concept=["concept.steps=60"],  # the second level's steps (smoke: 200): a dry run checks plumbing, not angles
)


def stage_commands(study: Study, root, p: Point, common: list[str]) -> dict[str, list[str]]:
    """`sla` argument lists of a point's stages, in the order they run (model first: the others read it)."""
    folder = root / "points" / p.name
    model, preset = folder / "model", [f"preset={study.preset}", *common]
    return {
        "model": [
            "train",
            *preset,
            f"dataset_dir={root / 'datasets' / p.dataset}",
            f"run.out={model}",
            f"model.hidden={p.hidden}",
            f"train.steps={p.steps}",
            f"seed={p.seed}",
        ],
        "oneshot": [
            "eval",
            "oneshot",
            *preset,
            f"model_dir={model}",
            f"run.out={folder / 'oneshot'}",
            "oneshot.glyphs=builtin",
        ],
        "oneshot_fonts": [
            "eval",
            "oneshot",
            *preset,
            f"model_dir={model}",
            f"run.out={folder / 'oneshot_fonts'}",
            "oneshot.glyphs=fonts",
        ],
        "concept": ["eval", "concept", *preset, f"model_dir={model}", f"run.out={folder / 'concept'}", *study.concept],
    }


def dataset_command(study: Study, root, name: str, common: list[str]) -> list[str]:
    return [
        "generate-cubes",
        f"preset={study.preset}",
        *common,
        *study.datasets[name],
        f"run.out={root / 'datasets' / name}",
    ]
