"""Typed configs: one dataclass per command (its types, and its ranges and choices as field metadata),
registered in Hydra's ConfigStore as ``schema_<config name>`` and named first in the defaults list of
conf/<config name>.yaml. The YAML keeps the values (a schema field has no default of its own); Hydra
and OmegaConf enforce the types when a config is composed and on every override; ``validate`` checks
the metadata (sla_cli/schema/validate.py).
"""

from __future__ import annotations

from pathlib import Path

from sla_cli.schema.classify import ClassifyConfig
from sla_cli.schema.density import density_config
from sla_cli.schema.eval_concept import EvalConcept
from sla_cli.schema.eval_oneshot import EvalOneshot
from sla_cli.schema.generate_cubes import GenerateCubes
from sla_cli.schema.train import TrainConfig

# conf/<name>.yaml -> its schema (density's is made by ``store``: it holds a block per model file)
SCHEMAS: dict[str, type] = {
    "generate_cubes": GenerateCubes,
    "train": TrainConfig,
    "eval_oneshot": EvalOneshot,
    "eval_concept": EvalConcept,
    "classify": ClassifyConfig,
}
_stored: tuple[str, ...] | None = None


def store(conf_dir: Path) -> None:
    """Register every command's schema (again when the density model files changed); called before every compose."""
    global _stored
    from hydra.core.config_store import ConfigStore

    from sla_cli.density.settings import model_files

    models = tuple(model_files(conf_dir))
    if models == _stored:
        return
    SCHEMAS["density"] = density_config(list(models))
    cs = ConfigStore.instance()
    for name, cls in SCHEMAS.items():
        cs.store(name=f"schema_{name}", node=cls)
    _stored = models


def schema_of(config_name: str) -> type:
    return SCHEMAS[config_name]
