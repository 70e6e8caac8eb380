"""Saved classifiers: plain tensors and dicts only (torch.load(weights_only=True)), with the
architecture beside them so a mismatched config fails in one line instead of a shape error."""

from __future__ import annotations

from pathlib import Path

from sla_cli.classify.mlp import Mlp
from sla_cli.classify.train_models import matched_hidden
from sla_cli.errors import DataError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runfolder import load_torch, read_manifest, save_torch, verify_file

KIND = "classify"


def file_name(seed: int) -> str:
    return f"weights_seed{seed}.pt"


def blob(models: dict, seed: int) -> dict:
    """What a weights file holds. ``models``: {"ae_set": AutoencoderSet, "mlp": Mlp, "mlp_matched": Mlp}."""
    out = {"kind": KIND, "seed": seed}
    for part, model in models.items():
        out[part] = {"config": model.config(), "state": {k: v.cpu() for k, v in model.state_dict().items()}}
    return out


def save(path: Path, models: dict, seed: int) -> None:
    save_torch(path, blob(models, seed))


def expected_configs(cfg, dim: int = 784, n_classes: int = 10) -> dict:
    """The architecture the config asks for, per saved part."""
    c = cfg.classify
    ae = {
        "n_members": n_classes,
        "dim": dim,
        "hidden": c.autoencoder.hidden,
        "latent": c.autoencoder.latent,
        "tied": True,
        "learn_sigma": bool(c.autoencoder.learn_sigma),
    }
    return {
        "ae_set": ae,
        "mlp": {"dim": dim, "hidden": c.mlp.hidden, "n_classes": n_classes, "layers": 1},
        "mlp_matched": {
            "dim": dim,
            "hidden": matched_hidden(c, dim, n_classes),
            "n_classes": n_classes,
            "layers": c.mlp_matched.layers,
        },
    }


def _mismatch(saved: dict, wanted: dict) -> str:
    return ", ".join(f"{k}={saved.get(k)!r} (config asks {v!r})" for k, v in wanted.items() if saved.get(k) != v)


def load_file(path: Path, configs: dict, device) -> dict:
    """{part: model} for every part of ``configs`` (from ``expected_configs``), checked against it."""
    blob = load_torch(path, "classifier checkpoint")
    if not isinstance(blob, dict) or blob.get("kind") != KIND:
        raise DataError(f"{path} is not an sla classify checkpoint")
    models = {}
    for part, wanted in configs.items():
        if part not in blob:
            raise DataError(f"{path} holds no {part} (saved by an older sla classify): train anew instead")
        saved = {"layers": 1, **blob[part]["config"]}  # checkpoints from before deeper MLPs: one hidden layer
        diff = _mismatch(saved, wanted)
        if diff:
            raise DataError(f"{path}: saved {part} architecture differs from the config: {diff}")
        model = AutoencoderSet(**wanted) if part == "ae_set" else Mlp(**wanted)
        model.load_state_dict(blob[part]["state"])
        models[part] = model.to(device).eval()
    return models


def load_from_run(folder: str, seed: int, cfg, device) -> dict:
    """The seed's classifier from an earlier `sla classify` run folder (sha256-checked)."""
    manifest = read_manifest(folder, KIND)
    name = file_name(seed)
    if name not in manifest.get("sha256", {}):
        held = ", ".join(sorted(k for k in manifest["sha256"] if k.endswith(".pt")))
        raise DataError(f"{folder} holds no weights for seed {seed} (has {held})")
    path = verify_file(Path(folder), manifest, name)
    return load_file(path, expected_configs(cfg), device)
