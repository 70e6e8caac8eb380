"""Held-out train metrics on a synthetic dataset with known answers: the two floors, covered contexts, the ratio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from sla_cli.models.ae_set import AutoencoderSet
from sla_cli.train.data import Dataset
from sla_cli.train.metrics import MIN_COVERAGE, evaluate, mean_images

C, H, W = 3, 10, 10


def _dataset(n_train=60, n_test=30) -> Dataset:
    """Each class k is a constant image of value (k + 1) / 10 in every context, plus a little noise:
    the class-mean floor is then nearly perfect while the overall mean image is not."""
    rng = np.random.default_rng(0)
    masks = np.zeros((C, H, W), np.float32)
    masks[0] = 1.0
    masks[1, :5] = 1.0
    masks[2, 0, 0] = 0.5  # half a pixel of 100: under the 1% coverage line

    def split(n):
        labels = np.arange(n) % 3
        values = (labels + 1) / 10.0
        images = values[:, None, None, None] + rng.normal(0, 0.01, (n, C, H, W))
        return (np.clip(images, 0, 1) * 255).round().astype(np.uint8), labels.astype(np.uint8)

    tr, tr_lab = split(n_train)
    te, te_lab = split(n_test)
    return Dataset(Path("."), {}, tr, te, tr_lab, te_lab, masks)


def test_class_mean_floor_knows_the_class_and_the_mean_floor_does_not():
    data = _dataset()
    overall, by_class = mean_images(data, torch.device("cpu"))
    assert by_class.shape == (C, 10, H * W)
    for k in range(3):
        assert abs(float(by_class[:, k].mean()) - (k + 1) / 10) < 0.01
    assert abs(float(overall.mean()) - 0.2) < 0.01
    torch.manual_seed(0)
    m = evaluate(AutoencoderSet(C, H * W, 8, 2), data, torch.device("cpu"), n_test=30, n_latent=10, seed=0)
    # overall mean 0.2 vs classes at 0.1, 0.2, 0.3: MSE = (0.01 + 0 + 0.01) / 3 plus the noise
    assert abs(m["mean_image_mse"] - 0.02 / 3) < 0.001
    assert m["class_mean_image_mse"] < 0.0005
    assert m["contexts_covered"] == 2 and 0.5 / (H * W) < MIN_COVERAGE


def test_covered_metrics_leave_out_the_edge_on_context():
    """Make context 2 (half a pixel) the only one the model gets badly wrong: the all-context MSE sees
    it, the covered one does not."""
    data = _dataset()
    torch.manual_seed(0)
    model = AutoencoderSet(C, H * W, 8, 2)
    with torch.no_grad():  # tied weights at zero: each context outputs sigmoid(its bias), whatever the input
        model.enc1_w.zero_()
        model.dec2_b.fill_(float(torch.logit(torch.tensor(0.2))))  # the mean image in contexts 0 and 1
        model.dec2_b[2] = -20.0  # black in context 2
    m = evaluate(model, data, torch.device("cpu"), n_test=30, n_latent=10, seed=0)
    per_context_2 = m["test_self_mse"] * C - m["test_self_mse_covered"] * 2
    assert abs(per_context_2 - 0.14 / 3) < 0.003  # context 2 alone: mean of 0.1^2, 0.2^2, 0.3^2
    assert abs(m["test_self_mse_covered"] - m["mean_image_mse_covered"]) < 0.001  # contexts 0, 1: the mean image


def test_latent_distance_is_reported_as_a_ratio_with_what_was_measured():
    data = _dataset()
    torch.manual_seed(0)
    m = evaluate(AutoencoderSet(C, H * W, 8, 2), data, torch.device("cpu"), n_test=30, n_latent=12, seed=0)
    assert m["latent_distance_ratio"] == m["latent_distance_different_digit"] / m["latent_distance_same_digit"]
    assert "12 MNIST test digits" in m["latent_distance_measured"] and "ratio" in m["latent_distance_measured"]
