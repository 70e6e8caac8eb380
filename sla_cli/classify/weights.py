"""Saved classifiers: plain tensors and dicts only (torch.load(weights_only=True)), with the
architecture beside them so a mismatched config fails in one line instead of a shape error."""

from __future__ import annotations

from pathlib import Path


from sla_cli.classify.mlp import Mlp
from sla_cli.errors import DataError
from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.runfolder import load_torch, read_manifest, save_torch, verify_file

KIND = "classify"


def file_name(seed: int) -> str:
    return f"weights_seed{seed}.pt"


def save(path: Path, ae_set: AutoencoderSet, mlp: Mlp, seed: int) -> None:
    blob = {
        "kind": KIND,
        "seed": seed,
        "ae_set": {"config": ae_set.config(), "state": {k: v.cpu() for k, v in ae_set.state_dict().items()}},
        "mlp": {"config": mlp.config(), "state": {k: v.cpu() for k, v in mlp.state_dict().items()}},
    }
    save_torch(path, blob)


def expected_configs(cfg, dim: int = 784, n_classes: int = 10) -> tuple[dict, dict]:
    c = cfg.classify
    ae = {
        "n_members": n_classes,
        "dim": dim,
        "hidden": c.model.hidden,
        "latent": c.model.latent,
        "tied": True,
        "learn_sigma": bool(c.model.learn_sigma),
    }
    return ae, {"dim": dim, "hidden": c.mlp.hidden, "n_classes": n_classes}


def _mismatch(saved: dict, wanted: dict) -> str:
    return ", ".join(f"{k}={saved.get(k)!r} (config asks {v!r})" for k, v in wanted.items() if saved.get(k) != v)


def load_file(path: Path, ae_config: dict, mlp_config: dict, device) -> tuple[AutoencoderSet, Mlp]:
    blob = load_torch(path, "classifier checkpoint")
    if not isinstance(blob, dict) or blob.get("kind") != KIND:
        raise DataError(f"{path} is not an sla classify checkpoint")
    for part, wanted in (("ae_set", ae_config), ("mlp", mlp_config)):
        diff = _mismatch(blob[part]["config"], wanted)
        if diff:
            raise DataError(f"{path}: saved {part} architecture differs from the config: {diff}")
    ae = AutoencoderSet(**{k: v for k, v in ae_config.items()})
    ae.load_state_dict(blob["ae_set"]["state"])
    mlp = Mlp(mlp_config["dim"], mlp_config["hidden"], mlp_config["n_classes"])
    mlp.load_state_dict(blob["mlp"]["state"])
    return ae.to(device).eval(), mlp.to(device).eval()


def load_from_run(folder: str, seed: int, cfg, device) -> tuple[AutoencoderSet, Mlp]:
    """The seed's classifier from an earlier `sla classify` run folder (sha256-checked)."""
    manifest = read_manifest(folder, KIND)
    name = file_name(seed)
    if name not in manifest.get("sha256", {}):
        held = ", ".join(sorted(k for k in manifest["sha256"] if k.endswith(".pt")))
        raise DataError(f"{folder} holds no weights for seed {seed} (has {held})")
    path = verify_file(Path(folder), manifest, name)
    ae_config, mlp_config = expected_configs(cfg)
    return load_file(path, ae_config, mlp_config, device)
