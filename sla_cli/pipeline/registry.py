"""The stage registry: every stage of sla declared once, and the pipeline as folders of those stages.

A *stage* is an `sla` command that writes one run folder: its name as typed, its Hydra config, the
module whose ``validate(cfg)`` and ``run(cfg, out_dir)`` do the work, the manifest's kind, the
folders it reads (config keys and the kinds they must hold) and the files it writes. A *step* is
one folder of `sla pipeline` (and of `make demo`): a stage, the overrides that make it this step
(``train.cross_steps=0`` for the ablation) and which earlier step's folder feeds which key.

Readers of this table: the command table (``sla --help``, dispatch), `sla pipeline` (order,
inputs, what to skip), the pre-flight and the memory estimates (each stage's kind and inputs),
`sla report` (its stage list and each stage's numbers file), `sla verify` (the files each kind must
hold) and `sla aggregate` (each kind's numbers file). A stage reads another stage's file by the
name declared here (``DATASET_FILES.masks``), never by a string of its own.

Torch- and Hydra-free: `sla --help` imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class DatasetFiles:
    """`sla generate-cubes`: every digit in every context, masks, the rotating cubes, previews."""

    train_images: str = "train_images.npy"  # uint8 [N, C, H, W]
    test_images: str = "test_images.npy"
    train_labels: str = "train_labels.npy"
    test_labels: str = "test_labels.npy"
    train_indices: str = "train_indices.npy"  # which source image each digit is
    test_indices: str = "test_indices.npy"
    masks: str = "masks.npy"  # float32 [C, H, W]
    cubes_angles: str = "cubes_angles.npy"
    cubes_contexts: str = "cubes_contexts.npy"
    cubes_images: str = "cubes_images.npy"
    cubes_digits: str = "cubes_digits.npy"
    cubes_indices: str = "cubes_indices.npy"
    cubes_compare_images: str = "cubes_compare_images.npy"  # only with cubes.compare_digit set
    cubes_compare_digits: str = "cubes_compare_digits.npy"
    cubes_compare_indices: str = "cubes_compare_indices.npy"
    contexts_figure: str = "contexts.png"
    masks_figure: str = "masks.png"
    cubes_figure: str = "cubes.png"

    def split(self, split: str, what: str) -> str:
        """``split(train|test, images|labels|indices)``."""
        return getattr(self, f"{split}_{what}")

    def cubes(self, prefix: str, what: str) -> str:
        """``cubes(cubes_|cubes_compare_, images|digits|indices)``."""
        return getattr(self, f"{prefix}{what}")


@dataclass(frozen=True)
class ModelFiles:
    """`sla train`: the set (or a baseline variant), its metrics and figures."""

    model: str = "model.pt"
    metrics: str = "metrics.json"
    metrics_csv: str = "metrics.csv"
    transfer_figure: str = "transfer.png"
    curves_figure: str = "curves.png"


@dataclass(frozen=True)
class ClassifyFiles:
    results: str = "results.json"
    table: str = "table.md"
    confusion_figure: str = "confusion.png"
    loglik_figure: str = "loglik_hist.png"

    @staticmethod
    def weights(seed: int) -> str:
        return f"weights_seed{seed}.pt"


@dataclass(frozen=True)
class DensityFiles:
    results: str = "density.json"
    samples_figure: str = "samples.png"
    curves_figure: str = "curves.png"


@dataclass(frozen=True)
class OneshotFiles:
    results: str = "oneshot.json"
    decoded_figure: str = "decoded.png"
    distances_figure: str = "distances.png"
    accuracy_maps_figure: str = "accuracy_maps.png"
    accuracy_matrix_figure: str = "accuracy_matrix.png"  # only with oneshot.source_context=all


@dataclass(frozen=True)
class ConceptFiles:
    results: str = "concept.json"
    model: str = "concept_model.pt"
    maps_figure: str = "likelihood_maps.png"
    sweep_figure: str = "concept_sweep.png"
    backprojection_figure: str = "backprojection.png"
    invariance_figure: str = "texture_invariance.png"


DATASET_FILES, MODEL_FILES, CLASSIFY_FILES = DatasetFiles(), ModelFiles(), ClassifyFiles()
DENSITY_FILES, ONESHOT_FILES, CONCEPT_FILES = DensityFiles(), OneshotFiles(), ConceptFiles()


@dataclass(frozen=True)
class Input:
    """A run folder a stage reads: the config key that names it and the kind it must hold."""

    key: str
    kind: str


@dataclass(frozen=True)
class Stage:
    name: str  # as typed after `sla`, e.g. "eval oneshot"
    config_name: str  # conf/<config_name>.yaml
    module: str  # defines validate(cfg) and run(cfg, out_dir)
    summary: str
    kind: str  # manifest.json's kind
    files: object  # one of the *Files above
    numbers: str | None  # the JSON holding its numbers (report, aggregate); None: none
    required: tuple[str, ...]  # files every complete run of it lists (sla verify)
    reads: tuple[Input, ...] = ()
    open_sections: tuple[str, ...] = ()  # config sections a `+section.NAME=value` may add to

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(getattr(self.files, f.name) for f in fields(self.files))


def _names(files, *roles: str) -> tuple[str, ...]:
    return tuple(getattr(files, r) for r in roles)


GENERATE_CUBES = Stage(
    "generate-cubes",
    "generate_cubes",
    "sla_cli.generate_cubes.stage",
    "render MNIST digits on cube faces in 100 contexts, with masks and rotating cubes",
    "dataset",
    DATASET_FILES,
    None,
    _names(DATASET_FILES, "train_images", "test_images", "train_labels", "test_labels", "masks"),
)
TRAIN = Stage(
    "train",
    "train",
    "sla_cli.train.stage",
    "train one autoencoder per context, self- and cross-training into a shared latent space",
    "model",
    MODEL_FILES,
    MODEL_FILES.metrics,
    _names(MODEL_FILES, "model", "metrics"),
    reads=(Input("dataset_dir", "dataset"),),
)
CLASSIFY = Stage(
    "classify",
    "classify",
    "sla_cli.classify.stage",
    "MNIST: a set of class autoencoders as a Bayes classifier, against an MLP",
    "classify",
    CLASSIFY_FILES,
    CLASSIFY_FILES.results,
    _names(CLASSIFY_FILES, "results"),
)
DENSITY = Stage(
    "density",
    "density",
    "sla_cli.density.stage",
    "the autoencoder family as density models on binarized MNIST: DAE, MADE, VAE (IWAE)",
    "density",
    DENSITY_FILES,
    DENSITY_FILES.results,
    _names(DENSITY_FILES, "results"),
)
EVAL_ONESHOT = Stage(
    "eval oneshot",
    "eval_oneshot",
    "sla_cli.eval.oneshot.stage",
    "one-shot recognition of unseen glyphs in all contexts from one example",
    "oneshot",
    ONESHOT_FILES,
    ONESHOT_FILES.results,
    _names(ONESHOT_FILES, "results"),
    reads=(
        Input("model_dir", "model"),
        Input("oneshot.ablation_model_dir", "model"),
        Input("oneshot.baseline_model_dirs.*", "model"),
    ),
    open_sections=("oneshot.baseline_model_dirs",),
)
EVAL_CONCEPT = Stage(
    "eval concept",
    "eval_concept",
    "sla_cli.eval.concept.stage",
    "context-likelihood maps and the second-level 'turning cube' autoencoder",
    "concept",
    CONCEPT_FILES,
    CONCEPT_FILES.results,
    _names(CONCEPT_FILES, "results"),
    reads=(Input("model_dir", "model"),),
)

STAGES = (GENERATE_CUBES, TRAIN, CLASSIFY, DENSITY, EVAL_ONESHOT, EVAL_CONCEPT)
BY_NAME = {s.name: s for s in STAGES}
BY_KIND = {s.kind: s for s in STAGES}


@dataclass(frozen=True)
class Step:
    """One folder of the pipeline: OUT/<folder> written by ``stage`` with ``overrides``; ``inputs``
    maps a config key of the stage to the earlier step whose folder it reads."""

    folder: str
    stage: Stage
    summary: str
    inputs: dict[str, str] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    # False: a feeder, whose numbers the report shows through the step that reads it (the ablation and
    # the baselines, through oneshot); the report lists it only where its folder exists or a pipeline
    # logged it as refused, failed, interrupted or not run
    reported: bool = True


PIPELINE = (
    Step("dataset", GENERATE_CUBES, "the cube world"),
    Step("model", TRAIN, "the set, self- and cross-trained", {"dataset_dir": "dataset"}),
    Step("classify", CLASSIFY, "Table 1: class autoencoders vs MLPs"),
    Step(
        "model_self_only",
        TRAIN,
        "ablation: no cross-training",
        {"dataset_dir": "dataset"},
        ("train.cross_steps=0",),
        reported=False,
    ),
    Step(
        "model_shared_ae",
        TRAIN,
        "baseline: one shared autoencoder",
        {"dataset_dir": "dataset"},
        ("train.variant=shared_ae",),
        reported=False,
    ),
    Step(
        "model_contrastive",
        TRAIN,
        "baseline: contrastive encoders",
        {"dataset_dir": "dataset"},
        ("train.variant=contrastive",),
        reported=False,
    ),
    Step(
        "oneshot",
        EVAL_ONESHOT,
        "one-shot recognition of new glyphs",
        {
            "model_dir": "model",
            "oneshot.ablation_model_dir": "model_self_only",
            "oneshot.baseline_model_dirs.shared_ae": "model_shared_ae",
            "oneshot.baseline_model_dirs.contrastive": "model_contrastive",
        },
    ),
    Step("concept", EVAL_CONCEPT, "the cube concept, second level", {"model_dir": "model"}),
)
STEP_BY_FOLDER = {s.folder: s for s in PIPELINE}
