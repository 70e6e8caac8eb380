"""What a density model is to `sla density` and to `sla classify classify.density_classifier=<name>`, and the
registry that finds the models.

A density model is one module in ``sla_cli/density/models/`` defining one subclass of ``DensityModel``
whose ``name`` is the module's name, and one settings file, ``conf/density/models/<name>.yaml`` (its
``density.<name>.*`` keys, ``epochs`` among them). The registry imports every module of that folder
and the settings files reach the config through ``sla_cli.density.settings``: nothing else lists the
models. CONTRIBUTING.md ("a new density model") is the recipe; tests/density/test_registry.py follows it.

What a model provides (images are [B, D] tensors of 0/1 floats, numbers are nats per image):
- ``build(settings, d, seed)``: the model from its settings (``density.<name>``); ``members`` when one
  run trains several variants side by side (the DAE's plain and walkback);
- ``train_loss(x)``: the training objective per image [B];
- ``val_loss(x)``: the number tracked on validation after each epoch (default: the training loss);
- ``test_nll(x, c)``: the test NLL per image, exact or an upper bound (``nll_kind``), ``c`` being the
  density settings (``c.iwae_k``...); ``test_numbers`` adds others (the VAE's ELBO);
- ``sample(n)``: n images [n, D] in [0, 1] for samples.png.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from pathlib import Path
from typing import ClassVar

import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from sla_cli.errors import ConfigError
from sla_cli.schema.density import ModelSettings

# Folders holding model modules; a test of the recipe appends its own.
MODEL_DIRS: list[Path] = [Path(__file__).parent / "models"]
_REGISTRY: dict[str, type[DensityModel]] = {}


class DensityModel(nn.Module):
    name: ClassVar[str] = ""  # the registry key: the module's and the settings file's name
    nll_kind: ClassVar[str] = "exact"  # exact | upper bound | none (no normalized likelihood: no test_nll)
    val_label: ClassVar[str] = "NLL (nats per image)"  # the y axis of curves.png
    # The types and ranges of the model's settings (density.<name>.*): a dataclass of schema fields,
    # a subclass of sla_cli.schema.density.ModelSettings (which holds ``epochs``)
    settings: ClassVar[type] = ModelSettings

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            _REGISTRY[cls.name] = cls

    # -- from the config ------------------------------------------------------------------------
    @classmethod
    def check(cls, cfg: DictConfig, key: str) -> None:
        """Checks of the model's settings at ``key`` (``density.<name>`` or ``classify.density.<name>``)
        beyond their schema's (``settings``): what depends on several keys; a one-line ConfigError."""

    @classmethod
    def build(cls, settings: DictConfig, d: int, seed: int) -> DensityModel:
        raise NotImplementedError

    @classmethod
    def members(cls, settings: DictConfig, d: int, seed: int) -> dict[str, DensityModel]:
        """The models one run trains, by name (default: this one, under the model's name)."""
        return {cls.name: cls.build(settings, d, seed)}

    @classmethod
    def member_names(cls) -> list[str]:
        return [cls.name]

    @classmethod
    def class_model(cls, members: dict[str, DensityModel]) -> DensityModel:
        """Which member serves as a class model in sla classify (default: the only one)."""
        return next(iter(members.values()))

    # -- training and test ----------------------------------------------------------------------
    def train_loss(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def val_loss(self, x: Tensor) -> Tensor:
        return self.train_loss(x)

    def test_nll(self, x: Tensor, c: DictConfig) -> Tensor:
        raise NotImplementedError

    def test_numbers(self, x: Tensor, c: DictConfig) -> dict[str, Tensor]:
        """Other per-image numbers to report beside the test NLL: {name ending in _nats: [B]}."""
        return {}

    def test_setting(self, c: DictConfig) -> dict:
        """What density.json should say of how the test numbers were computed."""
        return {}

    def class_score(self, x: Tensor, c: DictConfig) -> Tensor:
        """The class log-likelihood of sla classify's Bayes rule, per image (default: -test NLL)."""
        return -self.test_nll(x, c)

    def sample(self, n: int) -> Tensor:
        raise NotImplementedError

    @classmethod
    def samples_figure(cls, members: dict[str, DensityModel], c: DictConfig, device: torch.device):
        """samples.png (default: a grid of ``c.n_samples`` samples of each member)."""
        from sla_cli.density.figures import samples_figure

        model = cls.class_model(members)
        with torch.no_grad():
            samples = model.sample(c.n_samples)
        return samples_figure(samples, model.samples_title())

    def samples_title(self) -> str:
        return f"{self.name}: samples"

    @torch.no_grad()
    def init_output_bias(self, grey: Tensor) -> None:
        """Start the outputs at the training set's pixel means (as Burda et al. do): the first epochs
        then learn structure instead of the average image. The output layer is taken to be the last
        ``nn.Linear`` with one output per pixel; a model without one overrides this."""
        d = grey.shape[1]
        last = [m for m in self.modules() if isinstance(m, nn.Linear) and m.out_features == d and m.bias is not None]
        if last:
            p = grey.mean(0).clamp(1e-3, 1 - 1e-3)
            last[-1].bias.copy_(torch.log(p) - torch.log1p(-p))


def log_mean_exp(values: Tensor, dim: int = 0) -> Tensor:
    """log of the mean of exp(values) along ``dim``: a mixture's log-likelihood from its components'."""
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])


def registry() -> dict[str, type[DensityModel]]:
    """{name: class} of every model module in MODEL_DIRS (imported on first use)."""
    for folder in MODEL_DIRS:
        for path in sorted(Path(folder).glob("*.py")):
            if not path.stem.startswith("_"):
                _import(path)
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> type[DensityModel]:
    models = registry()
    if name not in models:
        raise ConfigError(f"density.model={name!r} must be one of {', '.join(models)}")
    return models[name]


def _import(path: Path) -> None:
    builtin = Path(__file__).parent / "models"
    if path.parent == builtin:
        importlib.import_module(f"sla_cli.density.models.{path.stem}")
        return
    module_name = f"sla_density_model_{path.stem}"
    if module_name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
