"""A trained `sla train` folder as the eval stages need it: the set of context autoencoders, its
dataset's masks, and the very renderer `generate-cubes` used, rebuilt from the dataset's manifest
(so a glyph rendered here lands on the same pixels as the digits the model was trained on)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from data_gen.geometry import Camera, Context, make_contexts
from data_gen.render import context_grids, make_renderer
from sla_cli import runfolder
from sla_cli.errors import DataError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.models.variants import from_config, model_variant
from sla_cli.pipeline.registry import DATASET_FILES, GENERATE_CUBES, MODEL_FILES, TRAIN

MODEL_KIND, DATASET_KIND = TRAIN.kind, GENERATE_CUBES.kind


@dataclass
class TrainedModel:
    folder: Path
    manifest: dict
    model: AutoencoderSet  # on the device, eval mode, no gradients
    dataset_dir: Path
    dataset_manifest: dict
    masks: torch.Tensor  # float [C, H, W] in 0..1, on the device
    camera: Camera
    contexts: list[Context]
    render_uint8: Callable[[torch.Tensor], torch.Tensor]  # uint8 [N, 28, 28] -> uint8 [N, C, H, W]
    variant: str = "set"  # train.variant: set, shared_ae (one member serving every context), contrastive (encoders)

    @property
    def n_contexts(self) -> int:
        return self.masks.shape[0]

    @property
    def frame(self) -> tuple[int, int]:
        return int(self.masks.shape[1]), int(self.masks.shape[2])

    def render(self, textures: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 textures [N, 28, 28] -> float [N, C, H, W] in 0..1 on the device, every context."""
        t = torch.as_tensor(np.ascontiguousarray(textures), dtype=torch.uint8)
        return self.render_uint8(t).float().div(255)  # a fresh tensor: the renderer reuses its buffer

    def require_variant(self, allowed: tuple[str, ...], key: str, needs: str) -> None:
        """A one-line DataError when this model's variant cannot serve (``needs``: what is missing)."""
        if self.variant not in allowed:
            raise DataError(f"{key}={self.folder} is a train.variant={self.variant} model: {needs}")


def _build(folder: Path, blob) -> AutoencoderSet:
    """The model model.pt describes (a set, or a baseline variant: sla_cli.models.variants); a file
    that does not hold one (its hash may have been updated with it) is one line. The config is first
    built on torch's meta device, so a config naming sizes the tensors do not have allocates nothing
    before it is refused."""
    if (
        not isinstance(blob, dict)
        or not isinstance(blob.get("config"), dict)
        or not isinstance(blob.get("state_dict"), dict)
    ):
        raise DataError(f"{folder}/{MODEL_FILES.model} is not an sla train model")
    try:
        with torch.device("meta"):
            skeleton = from_config(blob["config"])
    except (TypeError, ValueError, RuntimeError, DataError) as e:
        raise DataError(
            f"{folder}/{MODEL_FILES.model} holds a config that builds no model ({str(e).splitlines()[0]})"
        ) from None
    want = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    have = {
        k: tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__ for k, v in blob["state_dict"].items()
    }
    if want != have:
        diff = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))[0]
        raise DataError(
            f"{folder}/{MODEL_FILES.model} does not fit the model its config describes ({diff}: "
            f"{have.get(diff, 'missing')}, expected {want.get(diff, 'nothing')})"
        )
    model = from_config(blob["config"])
    model.load_state_dict(blob["state_dict"])
    return model


def load_model_dir(folder: str | Path, device: torch.device) -> TrainedModel:
    """Check and load a model folder and the dataset it was trained on; one-line DataError otherwise."""
    folder = Path(folder)
    manifest = runfolder.read_manifest(folder, MODEL_KIND)
    blob = runfolder.load_torch(runfolder.verify_file(folder, manifest, MODEL_FILES.model), "model file")
    model = _build(folder, blob).to(device).eval().requires_grad_(False)
    variant = model_variant(blob["config"])

    dataset_dir = Path(manifest.get("dataset", {}).get("folder", ""))
    if not dataset_dir.is_dir():
        raise DataError(f"{folder} was trained on the dataset {dataset_dir}, which no longer exists there")
    dataset_manifest = runfolder.read_manifest(dataset_dir, DATASET_KIND)
    if dataset_manifest.get("identity") != manifest["dataset"].get("identity"):
        raise DataError(f"{dataset_dir} now holds another dataset than the one {folder} was trained on")
    masks = np.load(runfolder.verify_file(dataset_dir, dataset_manifest, DATASET_FILES.masks), allow_pickle=False)

    config = OmegaConf.create(dataset_manifest["config"])
    camera = Camera.from_config(config)
    contexts = make_contexts(camera, config.contexts.n_side, config.contexts.n_top)
    ss = int(config.render.supersample)
    _, render = make_renderer(context_grids(camera, contexts, ss), ss, "auto", device)
    if len(contexts) != model.n_members or masks.shape[0] != model.n_members:
        raise DataError(f"{folder}: the model has {model.n_members} contexts but its dataset {len(contexts)}")
    return TrainedModel(
        folder,
        manifest,
        model,
        dataset_dir,
        dataset_manifest,
        torch.from_numpy(masks.astype(np.float32)).to(device),
        camera,
        contexts,
        render,
        variant,
    )
