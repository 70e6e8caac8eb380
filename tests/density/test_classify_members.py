"""classify.members=dae|made|vae: ten density class models, Bayes with equal priors, on synthetic
classes that a working classifier cannot confuse. (These classes differ in their pixel means, so the
plumbing is what is tested here: per-class scores, argmax, AUROC; that each model learns is tested
by its own smoke run.)"""

from __future__ import annotations

import pytest
import torch

from helpers.stages import compose
from sla_cli.classify import density_members
from sla_cli.classify.data import Mnist, Split


def _bands(n_per_class: int, seed: int) -> Split:
    """Class c: rows 2c+4 and 2c+5 of the 28 x 28 image bright (0.95), the rest dark (0.03)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat_interleave(n_per_class)
    x = torch.full((len(y), 28, 28), 0.03)
    for i, c in enumerate(y.tolist()):
        x[i, 2 * c + 4:2 * c + 6] = 0.95
    x = (x + 0.02 * torch.rand(x.shape, generator=g)).clamp(0, 1)
    return Split(x.reshape(len(y), -1), y)


@pytest.fixture
def one_thread():
    """Small matmuls on a busy CPU: one thread, as the smoke preset's threads=1 would set."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("members", ["made", "vae", "dae"])
def test_ten_class_models_classify_separable_classes(members, one_thread):
    cfg = compose("classify", "preset=smoke", f"classify.members={members}", "classify.member.epochs=3",
                  "classify.member.lr=0.01", "classify.ood.n=20")
    data = Mnist(_bands(40, 0), _bands(5, 1), _bands(20, 2))
    torch.manual_seed(0)
    r = density_members.evaluate(cfg, 0, data, torch.device("cpu"))
    assert r["members"] == members
    assert r["accuracy"] > 0.95 and r["val_accuracy"] > 0.95
    assert r["ood"]["noise"] > 0.9  # uniform noise is far less likely than any class's bands


def test_ae_adds_nothing_and_a_wrong_name_is_refused():
    assert density_members.evaluate(compose("classify", "preset=smoke"), 0, None, torch.device("cpu")) is None
    from sla_cli.errors import ConfigError

    with pytest.raises(ConfigError, match="classify.members"):
        compose("classify", "preset=smoke", "classify.members=pixelcnn")
