"""The recipe of CONTRIBUTING.md ("a new density model"), followed for a tiny model: one module and one
settings file, nothing else touched; `sla density` trains and scores it and `sla classify
classify.density_classifier=<it>` uses it as class models. Also: the models sla density finds, and bad values."""

from __future__ import annotations

import json
import math
import sys

import pytest
import torch

from helpers.bands import bands_data
from helpers.stages import compose, run_stage
from sla_cli.density import base, settings
from sla_cli.errors import ConfigError

MODULE = '''
"""Independent pixels: p(x) = prod_d Bernoulli(x_d; sigmoid(logit_d)), the smallest exact density model."""
import torch
import torch.nn.functional as F
from torch import nn

from dataclasses import dataclass
from typing import Any

from sla_cli.density.base import DensityModel
from sla_cli.schema.density import ModelSettings
from sla_cli.schema.fields import number


@dataclass
class PixelsSettings(ModelSettings):  # density.pixels.*: types and ranges (the values: pixels.yaml)
    init_logit: Any = number(-10, 10)


class Pixels(DensityModel):
    name = "pixels"
    settings = PixelsSettings

    @classmethod
    def build(cls, s, d, seed):
        return cls(d, s.init_logit)

    def __init__(self, d, init_logit):
        super().__init__()
        self.logit = nn.Parameter(torch.full((d,), float(init_logit)))

    def train_loss(self, x):
        return F.binary_cross_entropy_with_logits(self.logit.expand_as(x), x, reduction="none").sum(-1)

    def test_nll(self, x, c):
        return self.train_loss(x)

    def sample(self, n):
        return torch.sigmoid(self.logit).expand(n, -1)
'''
SETTINGS = """# Independent pixels: density.pixels.*
epochs: 3
init_logit: 0.0         # every pixel's starting logit
"""


@pytest.fixture
def new_model(tmp_path, monkeypatch):
    """sla_cli/density/models/pixels.py and conf/density/models/pixels.yaml, in folders of their own."""
    (tmp_path / "models").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / "models" / "pixels.py").write_text(MODULE)
    (tmp_path / "conf" / "pixels.yaml").write_text(SETTINGS)
    monkeypatch.setattr(base, "MODEL_DIRS", [*base.MODEL_DIRS, tmp_path / "models"])
    monkeypatch.setattr(settings, "EXTRA_MODEL_CONF_DIRS", [tmp_path / "conf"])
    yield tmp_path
    base._REGISTRY.pop("pixels", None)
    sys.modules.pop("sla_density_model_pixels", None)


def test_the_built_in_models_are_found():
    assert list(base.registry()) == ["dae", "made", "vae"]
    cfg = compose("density", "preset=smoke")
    assert {"dae", "made", "vae"} <= set(cfg.density) and cfg.density.made.hidden == [64]  # file, then preset


def test_a_new_model_needs_one_module_and_one_settings_file(new_model, mnist_root, tmp_path):
    assert sorted(p.name for p in new_model.rglob("*") if p.is_file()) == ["pixels.py", "pixels.yaml"]
    out = tmp_path / "out"
    cfg = run_stage(
        "density",
        "preset=smoke",
        "density.model=pixels",
        f"run.data_root={mnist_root}",
        "density.pixels.init_logit=-1.0",
        out=out,
    )
    assert cfg.density.pixels.epochs == 3 and "pixels" in base.registry()
    result = json.loads((out / "density.json").read_text())
    assert result["model"] == "pixels" and result["test_nll_kind"] == "exact" and result["anchors"] == []
    # independent pixels on binarized MNIST: far below a fair coin per pixel (543 nats), far above MADE
    assert 150 < result["test_nll_nats"] < 784 * math.log(2) - 200 and 0 < result["test_nll_se_nats"] < 5
    assert [row["epoch"] for row in result["curves"]["pixels"]] == [1, 2]  # the smoke preset's density.epochs
    assert {"density.json", "pixels.pt", "curves.png", "samples.png"} <= set(
        json.loads((out / "manifest.json").read_text())["sha256"]
    )
    with pytest.raises(ConfigError, match=r"density.pixels.init_logit=99.0 must be <= 10"):
        compose("density", "preset=smoke", "density.model=pixels", "density.pixels.init_logit=99.0")


def test_a_new_model_serves_as_class_models(new_model):
    from sla_cli.classify import density_classifier

    cfg = compose(
        "classify",
        "preset=smoke",
        "classify.density_classifier=pixels",
        "classify.density.epochs=3",
        "classify.density.lr=0.05",
        "classify.ood.n=20",
    )
    r = density_classifier.evaluate(cfg, 0, bands_data(), torch.device("cpu"))
    assert r["members"] == "pixels" and r["accuracy"] > 0.95


def test_bad_values_are_one_line_errors():
    for override, message in (
        ("density.model=pixelcnn", "density.model='pixelcnn' must be one of dae, made, vae"),
        ("density.schedule=linear", "density.schedule='linear' must be one of"),
        ("density.test_binarization=half", "density.test_binarization='half' must be one of"),
        ("density.patience=-1", "density.patience=-1 must be >= 0"),
        ("density.val_size=0 density.patience=3", "needs a validation split"),
        ("density.made.hidden=[0]", "density.made.hidden=[0] must be a non-empty list"),
        ("density.model=vae density.vae.train_k=0", "density.vae.train_k=0 must be in 1.."),
    ):
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            compose("density", "preset=smoke", *override.split())
    with pytest.raises(ConfigError, match="classify.density.made.n_masks=0 must be"):
        compose("classify", "preset=smoke", "classify.density_classifier=made", "classify.density.made.n_masks=0")
