"""classify.density_classifier=dae|made|vae: ten density class models, Bayes with equal priors, on synthetic
classes that a working classifier cannot confuse. (These classes differ in their pixel means, so the
plumbing is what is tested here: per-class scores, argmax, AUROC; that each model learns is tested
by its own smoke run.)"""

from __future__ import annotations

import pytest
import torch

from helpers.bands import bands_data
from helpers.stages import compose
from sla_cli.classify import density_classifier


@pytest.mark.parametrize("members", ["made", "vae", "dae"])
def test_ten_class_models_classify_separable_classes(members, one_thread):
    cfg = compose(
        "classify",
        "preset=smoke",
        f"classify.density_classifier={members}",
        "classify.density.epochs=3",
        "classify.density.lr=0.01",
        "classify.ood.n=20",
    )
    data = bands_data()
    torch.manual_seed(0)
    r = density_classifier.evaluate(cfg, 0, data, torch.device("cpu"))
    assert r["members"] == members
    assert r["accuracy"] > 0.95 and r["val_accuracy"] > 0.95
    assert r["ood"]["noise"] > 0.9  # uniform noise is far less likely than any class's bands


def test_ae_adds_nothing_and_a_wrong_name_is_refused():
    assert density_classifier.evaluate(compose("classify", "preset=smoke"), 0, None, torch.device("cpu")) is None
    from sla_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="classify.density_classifier"):
        compose("classify", "preset=smoke", "classify.density_classifier=pixelcnn")
