"""Where the density settings live, read from the YAML files alone (no torch, no Hydra app):

- ``conf/density.yaml``: the settings every model shares (its ``density:`` block);
- ``conf/density/models/<name>.yaml``: one file per model, its ``density.<name>.*`` settings;
- ``conf/density/<preset>.yaml``: what a preset changes.

Hydra gets them through two ConfigStore entries (``store``, called before every compose):

- ``density_models``: every file of ``conf/density/models/`` as ``{name: settings}``. conf/density.yaml
  takes it in its defaults list (``density_models@density``), so a new model's file is picked up with
  no line added anywhere.
- the group ``density_settings``, one option per preset: the class models' settings of
  ``sla classify classify.density_classifier=<model>`` (conf/classify.yaml: ``density_settings@classify.density:
  ${preset}``), i.e. sla density's settings at the same preset, less the keys only the density stage
  reads (STAGE_ONLY). classify's YAML lists only what differs; ``classify.density.<key>=...`` overrides
  one on the command line as any key.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from omegaconf import OmegaConf

from sla_cli.schema.density import Density, Settings

# Folders holding <name>.yaml model settings (conf/density/models of the checkout or the installed
# package is added by ``model_conf_dirs``); a test of the "new density model" recipe appends its own.
EXTRA_MODEL_CONF_DIRS: list[Path] = []
# Density-stage keys that the class models of sla classify do not read (it has its own splits,
# its own fixed binarization of test images and no samples figure).
STAGE_ONLY = tuple(sorted({f.name for f in fields(Density)} - {f.name for f in fields(Settings)}))


def model_conf_dirs(conf_dir: Path) -> list[Path]:
    return [Path(conf_dir) / "density" / "models", *EXTRA_MODEL_CONF_DIRS]


def model_files(conf_dir: Path) -> dict[str, Path]:
    """{model name: its settings file}, over every folder (a later folder's file of the same name wins)."""
    return {p.stem: p for folder in model_conf_dirs(conf_dir) for p in sorted(Path(folder).glob("*.yaml"))}


def model_settings(conf_dir: Path) -> dict[str, dict]:
    return {name: OmegaConf.to_container(OmegaConf.load(path)) or {} for name, path in model_files(conf_dir).items()}


def presets(conf_dir: Path) -> list[str]:
    return sorted(p.stem for p in (Path(conf_dir) / "density").glob("*.yaml"))


def _density_block(path: Path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(path)).get("density") or {}


def class_model_settings(conf_dir: Path, preset: str) -> dict:
    """sla density's settings at ``preset`` (primary config, model files, preset file), less STAGE_ONLY."""
    merged = OmegaConf.merge(
        _density_block(Path(conf_dir) / "density.yaml"),
        model_settings(conf_dir),
        _density_block(Path(conf_dir) / "density" / f"{preset}.yaml"),
    )
    return {k: v for k, v in OmegaConf.to_container(merged).items() if k not in STAGE_ONLY}


# The files' paths and bytes at the last ``store``: every compose calls it, and parsing the YAML again
# when no file changed was half the cost of a compose (the test suite composes hundreds of times).
_stored: tuple | None = None


def _files_now(conf_dir: Path) -> tuple:
    paths = [
        Path(conf_dir) / "density.yaml",
        *sorted((Path(conf_dir) / "density").glob("*.yaml")),
        *model_files(conf_dir).values(),
    ]
    return tuple((str(p), p.read_bytes()) for p in paths)


def store(conf_dir: Path) -> None:
    """(Re)register the ConfigStore entries from the files as they are now (unchanged files: nothing to do)."""
    global _stored
    from hydra.core.config_store import ConfigStore

    files = _files_now(conf_dir)
    if files == _stored:
        return
    cs = ConfigStore.instance()
    cs.store(name="density_models", node=model_settings(conf_dir))
    for preset in presets(conf_dir):
        cs.store(group="density_settings", name=preset, node=class_model_settings(conf_dir, preset))
    _stored = files
